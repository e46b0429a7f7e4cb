"""Training: the ``Trainer`` fit loop, its callbacks, and resumable checkpoints::

    from chainrule.train import EarlyStopping, Trainer

    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters()), metrics=["accuracy"],
                      callbacks=[EarlyStopping(patience=5, restore_best_weights=True)])
    history = trainer.fit((X, y), val=(X_val, y_val), epochs=50, checkpoint="runs/mlp", resume=True)
    trainer.evaluate((X_test, y_test)), trainer.predict_proba(X_test)
"""

from .callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    History,
    LRSchedulerCallback,
    ModelCheckpoint,
    NoImprovementStopping,
    ProgressBar,
    TerminateOnNaN,
)
from .checkpoint import load_checkpoint, save_checkpoint
from .trainer import Trainer

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
    "Trainer",
    "load_checkpoint",
    "save_checkpoint",
]
