"""Tiny problems, models and a recording callback shared by the Trainer tests (imported, not a plugin)."""

import numpy as np

import chainrule as cr
from chainrule import nn
from chainrule.train import Callback


def blobs(n=240, d=4, classes=2, seed=0):
    """Separable-ish Gaussian blobs: (X float32, y int64)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    centers = 2.5 * rng.standard_normal((classes, d))
    X = (centers[y] + rng.standard_normal((n, d))).astype(np.float32)
    return X, y.astype(np.int64)


def split_blobs(n_train=180, **kw):
    X, y = blobs(**kw)
    return (X[:n_train], y[:n_train]), (X[n_train:], y[n_train:])


def mlp(d=4, out=2, hidden=16, dropout=0.0, seed=0):
    cr.manual_seed(seed)
    layers = [nn.Linear(d, hidden), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(hidden, out))
    return nn.Sequential(*layers)


class Recorder(Callback):
    """Records every hook call, as (name, hook, index[, logs]), into a shared ``events`` list."""

    def __init__(self, name="rec", events=None):
        self.name = name
        self.events = events if events is not None else []

    def on_train_begin(self, logs=None):
        self.events.append((self.name, "train_begin"))

    def on_train_end(self, logs=None):
        self.events.append((self.name, "train_end"))

    def on_epoch_begin(self, epoch, logs=None):
        self.events.append((self.name, "epoch_begin", epoch))

    def on_epoch_end(self, epoch, logs=None):
        self.events.append((self.name, "epoch_end", epoch, dict(logs)))

    def on_batch_begin(self, batch, logs=None):
        self.events.append((self.name, "batch_begin", batch))

    def on_batch_end(self, batch, logs=None):
        self.events.append((self.name, "batch_end", batch))


class ScriptedLogs(Callback):
    """Overwrites ``logs[key]`` at each epoch end with the next value of ``values`` (a scripted metric),
    and snapshots the weights, so that callbacks after it see a chosen history."""

    def __init__(self, key, values):
        self.key = key
        self.values = list(values)
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]
        self.weights.append(self.trainer.model.state_dict())
