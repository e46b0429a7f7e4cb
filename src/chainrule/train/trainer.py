"""``Trainer``: the one fit loop (DESIGN convention 10), with callbacks for everything around it.

The loop is the lecture's procedure: the model is already initialised; each epoch the data
are split into mini-batches (a fresh order per epoch, from ``(seed, epoch)`` only); for each
batch, forward, loss, backward and one optimiser update (``train_step``); repeat. After each
epoch the metrics are computed from that epoch's outputs, the validation data are evaluated,
and the callbacks run: history, early stopping, LR schedules, checkpoints, progress.

A run is reproducible bit for bit: the batch order depends only on ``seed`` and the epoch,
dropout masks on chainrule's default generator (``cr.manual_seed``) or the layer's own seed,
and a checkpoint holds all of these, so a run resumed from one ends with the same weights as
a run that never stopped.
"""

import math
from pathlib import Path

import numpy as np

from .. import metrics as M
from ..autograd import no_grad
from ..backend import keep_freed_memory
from ..data import DataLoader, Dataset, TensorDataset
from ..errors import ArgumentError, ShapeError
from ..functional import loss as FL
from ..tensor import Tensor
from .callbacks import CallbackList, History, LRSchedulerCallback, ProgressBar, _RunCheckpoint
from .checkpoint import apply_checkpoint, read_checkpoint

_CHECKPOINT_FILE = "checkpoint.safetensors"


def _loss_name(loss):
    return type(loss).__name__ if hasattr(loss, "forward") else getattr(loss, "__name__", type(loss).__name__)


def _declared(loss, attr, valid):
    """The loss's ``target_kind`` / ``input_kind`` (see ``chainrule.nn.loss``), checked; None if it declares none."""
    kind = getattr(loss, attr, None)
    if kind is not None and kind not in valid:
        raise ArgumentError(
            f"Trainer: the loss {_loss_name(loss)} declares {attr}={kind!r}; valid kinds: {', '.join(valid)}"
        )
    return kind


def _numpy(x):
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def _modes(model):
    return [(m, m.training) for m in model.modules()]


def _restore_modes(modes):
    for m, training in modes:
        m.__dict__["training"] = training


def checkpoint_file(checkpoint):
    """The file ``fit(checkpoint=...)`` writes: the path itself, or ``checkpoint.safetensors`` in a folder."""
    p = Path(checkpoint)
    if p.is_dir() or (not p.suffix and not p.exists()):
        return p / _CHECKPOINT_FILE
    return p


class Trainer:
    """Train, evaluate and use a model: ``Trainer(model, loss, optimizer, metrics=("accuracy",))``.

    ``metrics``: names from ``chainrule.metrics`` ('accuracy', 'precision', 'recall', 'f1',
    'roc_auc', 'log_loss', 'mse', 'mae', 'r2', ...) or functions ``f(y_true, y_pred)``.
    ``callbacks``: Callback objects, called in order after the History. ``scheduler``: an LR
    scheduler stepped after each epoch (by an ``LRSchedulerCallback``).

    The loss says what it expects through its ``target_kind`` and ``input_kind`` attributes (every
    loss of ``chainrule.nn`` and ``chainrule.functional`` declares them; see ``chainrule.nn.loss``):

    * ``target_kind="class_index"`` (CrossEntropyLoss, NLLLoss): a column of class indices becomes
      a vector, and float targets holding whole numbers (``1.0``) become int64; a value that is not
      a whole number (``0.7``) is a ``DTypeError`` naming it, never truncated to a class.
    * ``"probability"`` (BCELoss, BCEWithLogitsLoss) and ``"value"`` (MSELoss, L1Loss, HuberLoss):
      targets take the outputs' shape (``(n,)`` against ``(n, 1)``) and float dtype instead of
      broadcasting.

    ``task``: 'classification' or 'regression'; by default a class-index or probability target
    means classification. A loss without ``target_kind`` (a function of your own) is treated as
    ``"value"``: regression, unless ``task='classification'`` is given; set ``my_loss.target_kind``
    (and ``input_kind``) to say otherwise. For classification, predictions are the argmax of the
    outputs (or probability > 0.5 for one output column, or for each column with a probability
    target), and ``roc_auc`` / ``log_loss`` see the probabilities: from ``input_kind``, softmax of
    the logits (``chainrule.metrics.softmax``), sigmoid of one column or of each column with a
    probability target, the outputs themselves for ``"probability"``, the exponential of
    ``"log_probability"`` outputs.

    Override ``train_step(batch)`` to change what one update does.
    """

    def __init__(self, model, loss, optimizer, metrics=(), callbacks=(), scheduler=None, task=None):
        self.model = model
        self.loss = loss
        self.optimizer = optimizer
        if isinstance(metrics, str) or callable(metrics):
            metrics = [metrics]
        self.metrics = list(metrics)
        for m in self.metrics:
            if not callable(m):
                M.get(m)  # an unknown name fails now, listing the valid ones
        self.callbacks = list(callbacks)
        self.scheduler = scheduler
        target_kind = _declared(loss, "target_kind", FL.TARGET_KINDS) or "value"
        input_kind = _declared(loss, "input_kind", FL.INPUT_KINDS)
        if task is None:
            task = "classification" if target_kind in ("class_index", "probability") else "regression"
        if task not in ("classification", "regression"):
            raise ArgumentError(f"Trainer: task must be 'classification' or 'regression', got {task!r}")
        self.task = task
        self._target_kind = target_kind
        self._input_kind = input_kind or ("logits" if task == "classification" else "value")
        self.history = History()
        self.stop_training = False
        self.epoch = 0
        self.epochs = 0
        self.initial_epoch = 0
        self.params = {}
        self.train_loader = None
        self.val_loader = None
        self._epoch_interrupted = False

    # ---- data ------------------------------------------------------------------------------

    def _loader(self, data, batch_size, shuffle, seed, what):
        if isinstance(data, DataLoader):
            return data
        if isinstance(data, tuple | list):
            if len(data) != 2:
                raise ArgumentError(f"Trainer: {what} must be (X, y), a Dataset or a DataLoader; got a "
                                    f"{type(data).__name__} of {len(data)} items")
            data = TensorDataset(*data)
        elif isinstance(data, np.ndarray | Tensor):
            data = TensorDataset(data)
        elif not isinstance(data, Dataset) and not (hasattr(data, "__len__") and hasattr(data, "__getitem__")):
            raise ArgumentError(f"Trainer: {what} must be (X, y), a Dataset or a DataLoader, got {type(data).__name__}")
        return DataLoader(data, batch_size=batch_size, shuffle=shuffle, seed=seed)

    @staticmethod
    def _split(batch, what="training"):
        if isinstance(batch, tuple | list):
            if len(batch) >= 2:
                return batch[0], batch[1]
            raise ArgumentError(f"Trainer: {what} batches need targets: got a batch of {len(batch)} array(s), "
                                "expected (inputs, targets)")
        raise ArgumentError(f"Trainer: {what} batches must be (inputs, targets), got a {type(batch).__name__}")

    # ---- one step ----------------------------------------------------------------------------

    def _align_target(self, output, target):
        """Targets as the loss expects them (its ``target_kind``): class indices stay integers (a column
        becomes a vector; floats holding whole numbers become int64, any other float is a DTypeError
        naming it); other targets take the outputs' shape (``(n,)`` against ``(n, 1)``) and float dtype
        instead of broadcasting."""
        if not isinstance(target, Tensor):
            target = Tensor(target)
        if self._target_kind == "class_index":
            if target.ndim == 2 and target.shape[1] == 1 and output.ndim == 2 and output.shape[1] > 1:
                target = target.reshape(-1)  # a column of class indices
            index_shape = output.shape[:1] + output.shape[2:] if output.ndim > 1 else ()
            if target.dtype.kind == "f" and target.shape == index_shape:  # floats in the place of class indices
                target = Tensor._wrap(FL._class_indices(_loss_name(self.loss), target._data))  # 1.0 -> 1; 0.7 fails
            return target
        if target.shape != output.shape and target.numel() == output.numel():
            target = target.reshape(output.shape)
        if target.dtype != output.dtype and output.dtype.kind == "f":
            target = target.astype(output.dtype)
        return target

    def compute_loss(self, output, target):
        """The loss of one batch (a Tensor)."""
        return self.loss(output, self._align_target(output, target))

    def train_step(self, batch):
        """One update on ``batch`` (inputs, targets): forward, loss, backward, optimiser step.

        Returns a dict with ``loss`` (a float) and, for the epoch's metrics, ``y_pred`` (the
        outputs, as an array) and ``y_true``. An override may return ``loss`` only; then the
        training metrics are skipped (validation metrics are still computed).
        """
        x, y = self._split(batch)
        self.optimizer.zero_grad()
        output = self.model(x)
        loss = self.compute_loss(output, y)
        loss.backward()
        self.optimizer.step()
        return {"loss": loss.item(), "y_pred": output._data, "y_true": _numpy(y)}

    # ---- metrics -----------------------------------------------------------------------------

    def _probabilities(self, outputs):
        z = np.asarray(outputs, dtype=np.float64)
        if self._input_kind == "probability":
            return z
        if self._input_kind == "log_probability":
            return np.exp(z)
        if z.ndim == 2 and z.shape[1] > 1 and self._multi_column_softmax():
            return M.softmax(z, axis=1)
        return M.sigmoid(z)

    def _multi_column_softmax(self):
        """Whether several output columns are one distribution over classes (else independent binary outputs)."""
        return self._target_kind != "probability"

    def _classification_view(self, y_true, outputs):
        """(true labels, predicted labels, scores for roc_auc/log_loss, number of classes)."""
        proba = self._probabilities(outputs)
        t = np.asarray(y_true)
        if proba.ndim == 2 and proba.shape[1] > 1 and self._multi_column_softmax():
            n_classes = proba.shape[1]
            pred = proba.argmax(axis=1)
            if t.ndim == 2 and t.shape[1] == n_classes:  # class probabilities as targets
                t = t.argmax(axis=1)
            t = FL._class_indices(f"Trainer ({_loss_name(self.loss)})", t.reshape(-1))  # 0.7 is not class 0
            return t.astype(np.int64, copy=False), pred, proba, n_classes
        # one column (binary), or several independent binary outputs (multi-label, flattened)
        proba = proba.reshape(-1)
        t = t.reshape(-1)
        if len(t) != len(proba):
            raise ShapeError(f"Trainer: targets of shape {np.shape(y_true)} do not fit outputs of shape "
                             f"{np.shape(outputs)}")
        return (t > 0.5).astype(np.int64) if t.dtype.kind == "f" else t, (proba > 0.5).astype(np.int64), proba, 2

    def compute_metrics(self, y_true, outputs):
        """The metrics (a dict name -> float) of the model's ``outputs`` against ``y_true``."""
        if not self.metrics:
            return {}
        out = {}
        if self.task == "classification":
            t, pred, proba, n_classes = self._classification_view(y_true, outputs)
            labels = list(range(n_classes))
        for m in self.metrics:
            name = m if isinstance(m, str) else getattr(m, "__name__", type(m).__name__)
            fn = M.get(m) if isinstance(m, str) else m
            try:
                if self.task == "regression" or fn in (M.mse, M.mae, M.rmse, M.r2):
                    yt = np.asarray(y_true, dtype=np.float64)
                    yp = np.asarray(outputs, dtype=np.float64)
                    if yt.shape != yp.shape and yt.size == yp.size:
                        yt = yt.reshape(yp.shape)
                    value = fn(yt, yp)
                elif fn is M.roc_auc:
                    value = fn(t, proba, labels=labels if n_classes > 2 else None)
                elif fn is M.log_loss:
                    value = fn(t, proba, labels=labels)
                elif fn in (M.precision, M.recall, M.f1):
                    value = fn(t, pred, average="binary" if n_classes == 2 else "macro")
                else:
                    value = fn(t, pred)
            except ArgumentError:  # e.g. ROC AUC with one class present: undefined, not fatal
                value = math.nan
            out[name] = float(value)
        return out

    # ---- evaluation and prediction -------------------------------------------------------------

    def _run_eval(self, loader):
        modes = _modes(self.model)
        self.model.eval()
        total, n, outputs, targets = 0.0, 0, [], []
        try:
            with no_grad():
                for batch in loader:
                    x, y = self._split(batch, "evaluation")
                    output = self.model(x)
                    k = len(output._data)
                    total += self.compute_loss(output, y).item() * k
                    n += k
                    if self.metrics:
                        outputs.append(output._data)
                        targets.append(_numpy(y))
        finally:
            _restore_modes(modes)
        logs = {"loss": total / n if n else math.nan}
        if self.metrics and n:
            logs.update(self.compute_metrics(np.concatenate(targets), np.concatenate(outputs)))
        return logs

    def evaluate(self, data, batch_size=256):
        """The loss and metrics on ``data`` ((X, y), a Dataset or a DataLoader), in eval mode, without gradients."""
        return self._run_eval(self._loader(data, batch_size, False, 0, "data"))

    def predict(self, X, batch_size=256):
        """The model's outputs for ``X`` (array, Tensor, Dataset or DataLoader) as a NumPy array,
        computed in batches in eval mode without gradients."""
        if isinstance(X, list):  # rows of numbers, not (X, y)
            X = np.asarray(X, dtype=np.float32)
        loader = self._loader(X, batch_size, False, 0, "X")
        modes = _modes(self.model)
        self.model.eval()
        outputs = []
        try:
            with no_grad():
                for batch in loader:
                    x = batch[0] if isinstance(batch, tuple | list) else batch
                    outputs.append(np.array(self.model(x)._data, copy=True))
        finally:
            _restore_modes(modes)
        if not outputs:
            raise ArgumentError("Trainer.predict: no samples to predict")
        return np.concatenate(outputs)

    def predict_proba(self, X, batch_size=256):
        """Class probabilities for ``X`` (classification only): softmax of the logits (one column per
        class), or the sigmoid of a single output column (or of each column, with a BCE loss)."""
        if self.task != "classification":
            raise ArgumentError("Trainer.predict_proba: only for classification (this trainer's task is regression); "
                                "use predict()")
        outputs = self.predict(X, batch_size)
        return self._probabilities(outputs).astype(outputs.dtype, copy=False)

    # ---- the fit loop --------------------------------------------------------------------------

    def _lr(self):
        return float(self.optimizer.param_groups[0]["lr"])

    def fit(self, train, val=None, epochs=1, batch_size=32, shuffle=True, seed=0, initial_epoch=0, verbose=1,
            checkpoint=None, resume=False, resume_from=None):
        """Train for epochs ``initial_epoch .. epochs - 1``; returns the History.

        ``train`` / ``val``: (X, y) arrays or Tensors, a Dataset, or a DataLoader. Arrays and
        Datasets get one DataLoader for the whole fit (``batch_size``, ``shuffle``, ``seed``)
        whose order each epoch depends only on ``(seed, epoch)``. ``verbose``: 0 silent, 1 a
        progress bar (plain lines when not on a terminal), 2 one line per epoch.
        ``checkpoint``: a file or folder; a checkpoint is saved there after every epoch.
        ``resume=True`` continues from that checkpoint if it exists (else starts afresh);
        ``resume_from=path`` continues from the given checkpoint file.
        """
        if not (isinstance(epochs, int) and epochs >= 0):
            raise ArgumentError(f"Trainer.fit: epochs must be a non-negative integer, got {epochs!r}")
        keep_freed_memory()  # steps reuse their freed arrays instead of page-faulting them in anew (once a process)
        if resume and checkpoint is None and resume_from is None:
            raise ArgumentError("Trainer.fit: resume=True needs checkpoint= (the file or folder to resume from)")
        ckpt_file = checkpoint_file(checkpoint) if checkpoint is not None else None
        if ckpt_file is not None:
            ckpt_file.parent.mkdir(parents=True, exist_ok=True)
        source = Path(resume_from) if resume_from is not None else ckpt_file if resume else None
        saved = read_checkpoint(source) if source is not None and (resume_from is not None or source.exists()) else None

        self.train_loader = self._loader(train, batch_size, shuffle, seed, "train")
        self.val_loader = None if val is None else self._loader(val, batch_size, False, 0, "val")
        self.history = History()
        self.stop_training = False
        self.epochs = epochs
        self.initial_epoch = saved[0]["epoch"] if saved is not None else int(initial_epoch)
        try:
            steps = len(self.train_loader)
        except TypeError:
            steps = None
        self.params = {"epochs": epochs, "steps": steps, "batch_size": getattr(self.train_loader, "batch_size", None),
                       "samples": len(getattr(self.train_loader, "dataset", ())) or None, "verbose": verbose,
                       "metrics": [m if isinstance(m, str) else getattr(m, "__name__", "") for m in self.metrics]}

        cbs = [self.history, *self.callbacks]
        if self.scheduler is not None and not any(
            isinstance(c, LRSchedulerCallback) and c.scheduler is self.scheduler for c in self.callbacks
        ):
            cbs.append(LRSchedulerCallback(self.scheduler, monitor="val_loss" if val is not None else "loss"))
        if ckpt_file is not None:
            cbs.append(_RunCheckpoint(ckpt_file))
        if verbose and not any(isinstance(c, ProgressBar) for c in self.callbacks):
            cbs.append(ProgressBar(use_tqdm=None if verbose == 1 else False))
        callbacks = CallbackList(cbs, self)

        modes = _modes(self.model)
        logs = {}
        callbacks.on_train_begin(logs)
        try:
            if saved is not None:
                apply_checkpoint(*saved, self, source)
            for epoch in range(self.initial_epoch, epochs):
                if self.stop_training:
                    break
                logs = self._fit_epoch(epoch, callbacks)
        except BaseException as e:
            self.history.stop_reason = self.history.stop_reason or f"training interrupted: {type(e).__name__}: {e}"
            try:
                callbacks.on_train_end(logs)
            finally:
                _restore_modes(modes)
            raise
        try:
            callbacks.on_train_end(logs)
        finally:
            _restore_modes(modes)
        return self.history

    def _fit_epoch(self, epoch, callbacks):
        self.epoch = epoch
        self._epoch_interrupted = False
        if hasattr(self.train_loader, "set_epoch"):
            self.train_loader.set_epoch(epoch)
        self.model.train()
        callbacks.on_epoch_begin(epoch, {})
        lr = self._lr()
        total, n, outputs, targets = 0.0, 0, [], []
        collect = bool(self.metrics)
        for i, batch in enumerate(self.train_loader):
            size = len(_numpy(batch[0] if isinstance(batch, tuple | list) else batch))
            callbacks.on_batch_begin(i, {"batch": i, "size": size})
            result = self.train_step(batch)
            loss = float(result["loss"])
            total += loss * size
            n += size
            if collect and "y_pred" in result and "y_true" in result:
                outputs.append(_numpy(result["y_pred"]))
                targets.append(_numpy(result["y_true"]))
            else:
                collect = False
            callbacks.on_batch_end(i, {"batch": i, "size": size, "loss": loss})
            if self.stop_training:
                self._epoch_interrupted = i + 1 < (self.params["steps"] or math.inf)
                break
        logs = {"loss": total / n if n else math.nan}
        if collect and outputs:
            logs.update(self.compute_metrics(np.concatenate(targets), np.concatenate(outputs)))
        if self.val_loader is not None:
            logs.update({f"val_{k}": v for k, v in self._run_eval(self.val_loader).items()})
        logs["lr"] = lr
        callbacks.on_epoch_end(epoch, logs)
        return logs
