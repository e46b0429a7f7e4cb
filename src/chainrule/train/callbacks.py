"""Callbacks: everything around the fit loop (progress, history, early stopping, checkpoints, LR schedules).

Stopping rules: ``EarlyStopping`` (Keras's ``patience`` / ``min_delta``) and
``NoImprovementStopping`` (scikit-learn's ``n_iter_no_change`` / ``tol``, which the estimators of
``chainrule.sklearn`` use).

The loop in ``Trainer.fit`` calls, in the order the callbacks were given,
``on_train_begin(logs)``, then per epoch ``on_epoch_begin(epoch, logs)``, per batch
``on_batch_begin(batch, logs)`` / ``on_batch_end(batch, logs)`` (``logs`` holds ``loss`` and
``size``), ``on_epoch_end(epoch, logs)`` (``loss``, the metrics, ``val_*`` and ``lr``), and
``on_train_end(logs)`` however training ends. Epochs and batches are counted from 0; the
messages printed for people count from 1. A callback reads and steers the run through its
``trainer`` attribute (``trainer.stop_training = True`` stops after the current batch).

A callback whose state matters for resuming a run (early stopping's best value and patience
counter) returns it from ``state_dict()`` as plain data and arrays; checkpoints save it and
``load_state_dict`` restores it.
"""

import csv
import math
import numbers
import sys
import time
from pathlib import Path

import numpy as np

from ..errors import ArgumentError, TrainingError

__all__ = [
    "CSVLogger",
    "Callback",
    "EarlyStopping",
    "History",
    "LRSchedulerCallback",
    "ModelCheckpoint",
    "NoImprovementStopping",
    "ProgressBar",
    "TerminateOnNaN",
]


class Callback:
    """Base class: override the hooks you need; ``self.trainer`` is the Trainer running the loop."""

    trainer = None

    def set_trainer(self, trainer):
        self.trainer = trainer

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_batch_begin(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass

    def state_dict(self):
        """The state a resumed run needs (plain data and NumPy arrays); none by default."""
        return {}

    def load_state_dict(self, state):
        pass


class CallbackList:
    """Calls each hook on every callback, in order (the list is fixed when it is made).

    The callbacks that really implement a hook are found once, at its first call: the base class's
    empty hooks are skipped, which keeps the two per-batch hooks off the training step's time.
    """

    def __init__(self, callbacks, trainer):
        self.callbacks = tuple(callbacks)
        for cb in self.callbacks:
            cb.set_trainer(trainer)

    def __iter__(self):
        return iter(self.callbacks)

    def __getattr__(self, name):  # the first call of a hook; then ``call`` is an attribute
        if not name.startswith("on_"):
            raise AttributeError(name)
        empty = getattr(Callback, name, None)
        hooks = [h for h in (getattr(cb, name) for cb in self.callbacks) if getattr(h, "__func__", None) is not empty]

        def call(*args):
            for hook in hooks:
                hook(*args)

        self.__dict__[name] = call
        return call


def _is_max_metric(name):
    base = name[4:] if name.startswith("val_") else name
    return any(k in base for k in ("acc", "auc", "precision", "recall", "f1", "r2"))


def _comparison(name, monitor, mode, min_delta):
    if mode not in ("auto", "min", "max"):
        raise ArgumentError(f"{name}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        mode = "max" if _is_max_metric(monitor) else "min"
    delta = abs(min_delta)
    if mode == "min":
        return mode, (lambda current, best: current < best - delta)
    return mode, (lambda current, best: current > best + delta)


def _monitored(name, monitor, logs):
    if monitor not in logs:
        hint = " (pass val= to fit, or monitor='loss')" if monitor.startswith("val_") else ""
        raise TrainingError(
            f"{name}: the monitored value {monitor!r} is not in the epoch logs{hint}; available: {', '.join(logs)}"
        )
    return float(logs[monitor])


class History(Callback):
    """Records the epoch logs: ``history.history[key]`` is a list with one value per epoch.

    Every fit attaches one first and returns it. ``epoch`` lists the epoch indices recorded;
    ``stop_reason`` says why training stopped early (None if it ran to the end).
    """

    def __init__(self):
        self.history = {}
        self.epoch = []
        self.params = {}
        self.stop_reason = None

    def on_train_begin(self, logs=None):
        if self.trainer is not None:
            self.params = dict(self.trainer.params)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        n = len(self.epoch)
        self.epoch.append(int(epoch))
        for k, v in logs.items():
            column = self.history.setdefault(k, [math.nan] * n)  # a key first seen now: earlier epochs are nan
            column.append(v)
        for column in self.history.values():
            if len(column) == n:
                column.append(math.nan)

    def state_dict(self):
        return {"history": self.history, "epoch": self.epoch, "stop_reason": self.stop_reason}

    def load_state_dict(self, state):
        self.history = {k: list(v) for k, v in state["history"].items()}
        self.epoch = list(state["epoch"])
        self.stop_reason = state.get("stop_reason")

    def __repr__(self):
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"


def _fmt(key, value):
    if isinstance(value, float | np.floating):
        return f"{key}: {value:.4g}" if key == "lr" else f"{key}: {value:.4f}"
    return f"{key}: {value}"


class ProgressBar(Callback):
    """Progress of each epoch: a tqdm bar (batch, loss, samples/s, then the metrics) on a terminal
    when tqdm is installed; otherwise exactly one plain line per epoch, so that logs stay readable.

    ``use_tqdm``: None decides as above, False always prints plain lines. ``file``: where to
    write (default: ``sys.stdout`` at the time of writing).
    """

    def __init__(self, use_tqdm=None, file=None):
        self.use_tqdm = use_tqdm
        self.file = file
        self._bar = None
        self._tqdm_cls = None

    def _stream(self):
        return self.file if self.file is not None else sys.stdout

    def _tqdm(self):
        if self.use_tqdm is False:
            return None
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return None
        if self.use_tqdm is None:
            isatty = getattr(self._stream(), "isatty", None)
            if not (isatty and isatty()):
                return None
        return tqdm

    def on_train_begin(self, logs=None):
        self._tqdm_cls = self._tqdm()

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = time.perf_counter()
        self._samples = 0
        self._loss_sum = 0.0
        self._batches = 0
        params = self.trainer.params if self.trainer is not None else {}
        self._desc = f"Epoch {epoch + 1}/{params.get('epochs', '?')}"
        if self._tqdm_cls is not None:
            self._bar = self._tqdm_cls(total=params.get("steps"), desc=self._desc, unit="batch", file=self._stream(),
                                       leave=True, dynamic_ncols=True)

    def on_batch_end(self, batch, logs=None):
        logs = logs or {}
        size = int(logs.get("size", 0))
        self._samples += size
        self._batches += 1
        self._loss_sum += float(logs.get("loss", math.nan)) * size
        if self._bar is not None:
            rate = self._samples / max(time.perf_counter() - self._t0, 1e-9)
            loss = self._loss_sum / max(self._samples, 1)
            self._bar.set_postfix_str(f"loss={loss:.4f}, {rate:,.0f} samples/s", refresh=False)
            self._bar.update(1)

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self._t0
        rate = self._samples / max(seconds, 1e-9)
        parts = [_fmt(k, v) for k, v in (logs or {}).items()]
        if self._bar is not None:
            self._bar.set_postfix_str(" - ".join([f"{rate:,.0f} samples/s", *parts]), refresh=True)
            self._bar.close()
            self._bar = None
            return
        head = f"{self._desc} - {self._batches} batches - {seconds:.2f}s - {rate:,.0f} samples/s"
        print(" - ".join([head, *parts]), file=self._stream(), flush=True)

    def on_train_end(self, logs=None):
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        history = getattr(self.trainer, "history", None)
        if history is not None and history.stop_reason:
            print(history.stop_reason, file=self._stream(), flush=True)


class _StoppingRule(Callback):
    """What EarlyStopping and NoImprovementStopping share: the best value and epoch so far, the count of
    epochs without improvement (``wait``), the best weights, and their state for checkpoints."""

    def _reset(self):
        self.wait = 0
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = -1
        self.stopped_epoch = -1
        self.best_weights = None

    def on_train_begin(self, logs=None):
        self._reset()

    def _new_best(self, current, epoch):
        self.best, self.best_epoch = current, int(epoch)
        if self.restore_best_weights:
            self.best_weights = self.trainer.model.state_dict()

    def _stop(self, epoch, reason):
        self.stopped_epoch = int(epoch)
        self.trainer.stop_training = True
        self.trainer.history.stop_reason = f"{type(self).__name__}: {reason}; stopped after epoch {epoch + 1}"

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            self.trainer.model.load_state_dict(self.best_weights)

    def state_dict(self):
        return {"wait": self.wait, "best": self.best, "best_epoch": self.best_epoch,
                "stopped_epoch": self.stopped_epoch, "best_weights": self.best_weights}

    def load_state_dict(self, state):
        self.wait, self.best = int(state["wait"]), float(state["best"])
        self.best_epoch, self.stopped_epoch = int(state["best_epoch"]), int(state["stopped_epoch"])
        self.best_weights = state.get("best_weights")


class EarlyStopping(_StoppingRule):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs (Keras's rule).

    ``mode``: 'min', 'max', or 'auto' (max for accuracy, AUC, precision, recall, F1, R^2; else min).
    With ``restore_best_weights`` the model gets the weights of its best epoch back when
    training ends, whether this callback stopped it, the last epoch was reached, or training
    stopped for any other reason.
    """

    def __init__(self, monitor="val_loss", patience=10, min_delta=0.0, mode="auto", restore_best_weights=False):
        if not (isinstance(patience, int) and patience >= 0):
            raise ArgumentError(f"EarlyStopping: patience must be a non-negative integer, got {patience!r}")
        self.monitor = monitor
        self.patience = patience
        self.min_delta = min_delta
        self.restore_best_weights = restore_best_weights
        self.mode, self._better = _comparison("EarlyStopping", monitor, mode, min_delta)
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        current = _monitored("EarlyStopping", self.monitor, logs or {})
        self.wait += 1
        if self._better(current, self.best):
            self._new_best(current, epoch)
            self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self._stop(epoch, f"{self.monitor} has not improved for {self.wait} epochs (best {self.best:.4g} at "
                              f"epoch {self.best_epoch + 1})")


class NoImprovementStopping(_StoppingRule):
    """scikit-learn's stopping rule (``MLPClassifier``'s ``tol`` and ``n_iter_no_change``): stop when
    ``monitor`` has not improved by at least ``tol`` for more than ``n_iter_no_change`` epochs in a row.

    An epoch counts as no improvement when its value is worse than ``best - tol`` (``mode='min'``) or
    ``best + tol`` (``'max'``), where ``best`` is the best value so far, improved by any amount; training
    stops after ``n_iter_no_change + 1`` such epochs in a row, as scikit-learn does. ``mode='auto'`` is
    'max' for accuracy, AUC, precision, recall, F1, R^2 and 'min' otherwise. With
    ``restore_best_weights`` the model gets the weights of its best epoch back when training ends, as
    ``MLPClassifier(early_stopping=True)`` keeps them.

    How this differs from ``EarlyStopping`` (Keras's rule): there, ``best`` moves only on an improvement
    of more than ``min_delta``, and training stops after ``patience`` epochs without one.

    After training: ``best`` (the best value), ``best_epoch`` (counted from 0, -1 if none),
    ``stopped_epoch`` (-1 if this callback did not stop training) and ``no_improvement_count``.
    """

    def __init__(self, monitor="loss", tol=1e-4, n_iter_no_change=10, mode="auto", restore_best_weights=False):
        if not (isinstance(n_iter_no_change, numbers.Integral) and not isinstance(n_iter_no_change, bool)
                and n_iter_no_change >= 1):
            raise ArgumentError(
                f"NoImprovementStopping: n_iter_no_change must be an integer >= 1, got {n_iter_no_change!r}"
            )
        if not (isinstance(tol, numbers.Real) and not isinstance(tol, bool) and 0 <= tol < math.inf):
            raise ArgumentError(f"NoImprovementStopping: tol must be a finite number >= 0, got {tol!r}")
        self.monitor = monitor
        self.tol = float(tol)
        self.n_iter_no_change = int(n_iter_no_change)
        self.restore_best_weights = restore_best_weights
        self.mode, _ = _comparison("NoImprovementStopping", monitor, mode, 0.0)
        self._reset()

    @property
    def no_improvement_count(self):
        """scikit-learn's name for the epochs in a row without an improvement of ``tol`` (``wait``)."""
        return self.wait

    def on_epoch_end(self, epoch, logs=None):
        current = _monitored("NoImprovementStopping", self.monitor, logs or {})
        if self.mode == "min":  # written as "not improved", so that a nan counts as no improvement
            stalled, better = not current <= self.best - self.tol, current < self.best
        else:
            stalled, better = not current >= self.best + self.tol, current > self.best
        self.wait = self.wait + 1 if stalled else 0
        if better:
            self._new_best(current, epoch)
        if self.wait > self.n_iter_no_change:
            self._stop(epoch, f"{self.monitor} did not improve by at least tol={self.tol:g} for {self.wait} "
                              f"consecutive epochs (best {self.best:.6g} at epoch {self.best_epoch + 1})")


class ModelCheckpoint(Callback):
    """Save a full training checkpoint (see ``save_checkpoint``) to ``path`` after each epoch, atomically.

    ``path`` may name fields of the epoch: ``"ckpt-{epoch:03d}-{val_loss:.3f}.safetensors"``
    (``epoch`` counted from 1). With ``save_best_only`` it saves only when ``monitor`` improves.
    """

    def __init__(self, path, monitor="val_loss", save_best_only=False, mode="auto"):
        self.path = str(path)
        self.monitor = monitor
        self.save_best_only = save_best_only
        self.mode, self._better = _comparison("ModelCheckpoint", monitor, mode, 0.0)
        self.best = math.inf if self.mode == "min" else -math.inf
        self.last_saved = None

    def _target(self, epoch, logs):
        if "{" not in self.path:
            return Path(self.path)
        try:
            return Path(self.path.format(epoch=epoch + 1, **logs))
        except (KeyError, IndexError, ValueError) as e:
            raise TrainingError(f"ModelCheckpoint: cannot fill in the path {self.path!r}: {e!r}") from None

    def _save(self, epoch, logs):
        from .checkpoint import save_checkpoint

        path = self._target(epoch, logs)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.last_saved = save_checkpoint(path, self.trainer, epoch + 1)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.save_best_only:
            current = _monitored("ModelCheckpoint", self.monitor, logs)
            if not self._better(current, self.best):
                return
            self.best = current
        self._save(epoch, logs)

    def state_dict(self):
        return {"best": self.best} if self.save_best_only else {}

    def load_state_dict(self, state):
        if "best" in state:
            self.best = float(state["best"])


class _RunCheckpoint(ModelCheckpoint):
    """``fit(checkpoint=...)``: saved after every complete epoch, after all other callbacks; resumed from."""

    def __init__(self, path):
        super().__init__(path, save_best_only=False)

    def on_epoch_end(self, epoch, logs=None):
        if not getattr(self.trainer, "_epoch_interrupted", False):  # a cut-short epoch is not one to resume after
            self._save(epoch, logs or {})


class LRSchedulerCallback(Callback):
    """Step ``scheduler`` after each epoch (``interval='epoch'``) or batch (``'batch'``, the default of OneCycleLR
    and CyclicLR).

    ``ReduceLROnPlateau`` is given the epoch's ``monitor`` value (``val_loss`` by default).
    """

    def __init__(self, scheduler, monitor="val_loss", interval=None):
        from ..optim.lr_scheduler import CyclicLR, OneCycleLR, ReduceLROnPlateau

        if interval is None:
            interval = "batch" if isinstance(scheduler, OneCycleLR | CyclicLR) else "epoch"
        if interval not in ("epoch", "batch"):
            raise ArgumentError(f"LRSchedulerCallback: interval must be 'epoch' or 'batch', got {interval!r}")
        self.scheduler = scheduler
        self.monitor = monitor
        self.interval = interval
        self._plateau = isinstance(scheduler, ReduceLROnPlateau)
        if self._plateau and interval == "batch":
            raise ArgumentError("LRSchedulerCallback: ReduceLROnPlateau steps per epoch, on a metric")

    def on_batch_end(self, batch, logs=None):
        if self.interval == "batch":
            self.scheduler.step()

    def on_epoch_end(self, epoch, logs=None):
        if self.interval != "epoch":
            return
        if self._plateau:
            self.scheduler.step(_monitored("LRSchedulerCallback", self.monitor, logs or {}))
        else:
            self.scheduler.step()

    def state_dict(self):
        if self.trainer is not None and self.scheduler is getattr(self.trainer, "scheduler", None):
            return {}  # the trainer's own scheduler is saved with the checkpoint
        return {"scheduler": self.scheduler.state_dict()}

    def load_state_dict(self, state):
        if "scheduler" in state:
            self.scheduler.load_state_dict(state["scheduler"])


class CSVLogger(Callback):
    """Write one CSV row per epoch (``epoch`` from 0, then the logs) to ``path``, flushed each epoch.

    ``append=True`` adds to an existing file. A resumed run appends too, dropping any rows of
    epochs the checkpoint had not reached (a run killed between the row and the checkpoint).
    """

    def __init__(self, path, separator=",", append=False):
        self.path = Path(path)
        self.separator = separator
        self.append = append
        self._file = None
        self._writer = None
        self._keys = None

    def on_train_begin(self, logs=None):
        start = getattr(self.trainer, "initial_epoch", 0) if self.trainer is not None else 0
        self._keys = None
        rows = []
        if (self.append or start > 0) and self.path.exists():
            with open(self.path, newline="") as f:
                rows = list(csv.reader(f, delimiter=self.separator))
            if rows:
                self._keys = rows[0]
                rows = [r for r in rows[1:] if not (start > 0 and r and r[0].isdigit() and int(r[0]) >= start)]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "w", newline="")  # rewritten with the rows kept, then appended to
        self._writer = csv.writer(self._file, delimiter=self.separator)
        if self._keys is not None:
            self._writer.writerows([self._keys, *rows])
            self._file.flush()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self._keys is None:
            self._keys = ["epoch", *logs]
            self._writer.writerow(self._keys)
        self._writer.writerow([epoch, *(logs.get(k, "") for k in self._keys[1:])])
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None


class TerminateOnNaN(Callback):
    """Stop training at the first batch whose loss is nan or infinite.

    The reason, naming the epoch and batch (counted from 1), goes into ``History.stop_reason``
    (and is printed by the progress bar); the epoch's partial logs are still recorded.
    """

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or math.isfinite(float(loss)):
            return
        t = self.trainer
        epochs, steps = t.params.get("epochs", "?"), t.params.get("steps") or "?"
        t.stop_training = True
        t.history.stop_reason = (
            f"TerminateOnNaN: the loss is {float(loss)} at epoch {t.epoch + 1}/{epochs}, batch {batch + 1}/{steps}; "
            "training stopped. Lower the learning rate, scale the inputs, or clip the gradients."
        )
