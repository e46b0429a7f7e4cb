"""scikit-learn estimators backed by chainrule networks: ``NeuralNetClassifier`` and ``NeuralNetRegressor``.

Multi-layer perceptrons (``Linear`` -> activation [-> ``Dropout``] ... -> ``Linear``) trained with a
chainrule optimiser on mini-batches, behind scikit-learn's estimator API, so they work in
``Pipeline``, ``GridSearchCV``, ``cross_val_score`` and ``clone``::

    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from chainrule.sklearn import NeuralNetClassifier

    clf = make_pipeline(StandardScaler(), NeuralNetClassifier(hidden_layer_sizes=(100,), random_state=0))
    clf.fit(X_train, y_train).score(X_test, y_test)

The arguments and the stopping rule follow ``sklearn.neural_network.MLPClassifier``: training
stops when the epoch's training loss has not improved by ``tol`` for ``n_iter_no_change``
epochs, or, with ``early_stopping=True``, when the score on a held-out ``validation_fraction``
of the training data has not (the weights of the best epoch are then kept). As in scikit-learn,
scale the inputs (``StandardScaler``); for regression also scale the targets (for instance with
``sklearn.compose.TransformedTargetRegressor``).

The network is built by ``chainrule.nn.mlp`` and trained by ``chainrule.train.Trainer`` (the
library's one fit loop), with a ``NoImprovementStopping`` callback for the stopping rule above.
``predict``, ``predict_proba`` and ``predict_log_proba`` return float32 for float32 ``X`` and
float64 otherwise, as ``MLPClassifier`` does (the network trains in float32; for float64 ``X`` a
float64 copy of it predicts, so that a row's result does not depend on the batch it comes in).

``random_state`` fixes everything random (initial weights, batch order, dropout masks and the
validation split): the same ``random_state`` gives the same network, bit for bit. With
``random_state=None`` the seed is drawn from chainrule's default generator, so ``cr.manual_seed``
makes a run reproducible too. Nothing global is reseeded, and with a ``random_state`` the result does
not depend on chainrule's default generator.

This module needs scikit-learn (``pip install scikit-learn``); the rest of chainrule does not.
"""

import copy
import numbers
import time
import warnings

import numpy as np

from . import metrics as _metrics
from . import nn
from . import optim as _optim
from .autograd import no_grad
from .data import DataLoader, TensorDataset
from .errors import ArgumentError, ChainruleError, TrainingError, UnknownNameError
from .nn.builders import hidden_widths
from .random import default_generator
from .registry import get as _registry_get
from .tensor import Tensor
from .train import Callback, NoImprovementStopping, Trainer


class MissingDependencyError(ChainruleError, ImportError):
    """An optional dependency of chainrule (here scikit-learn) is not installed."""


try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.utils import check_random_state
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted
except ImportError as exc:  # pragma: no cover - exercised only without scikit-learn
    raise MissingDependencyError(
        "chainrule.sklearn needs scikit-learn, which is not installed; install it with `pip install scikit-learn`"
    ) from exc

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _sk_validate_data
except ImportError:  # pragma: no cover - older scikit-learn
    _sk_validate_data = None

__all__ = ["NeuralNetClassifier", "NeuralNetRegressor"]

_ACTIVATION_ALIASES = {"logistic": "sigmoid"}  # scikit-learn's name -> chainrule's registered name
_PREDICT_CHUNK = 65536  # rows per forward pass in predict (bounds memory on large inputs)


def _validate_data(estimator, X, y="no_validation", reset=True, **kwargs):
    """``sklearn.utils.validation.validate_data`` where it exists, else the older estimator method."""
    if _sk_validate_data is not None:
        return _sk_validate_data(estimator, X, y, reset=reset, **kwargs)
    return estimator._validate_data(X, y, reset=reset, **kwargs)  # pragma: no cover


def _is_int(value, low):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= low


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and np.isfinite(value)


class _EstimatorTrainer(Trainer):
    """``Trainer`` as the estimators run it: the training outputs are not kept for metrics (the stopping
    rule needs only the epoch's loss, or the validation score that ``Trainer`` computes itself)."""

    def train_step(self, batch):
        return {"loss": super().train_step(batch)["loss"]}


class _EpochReport(Callback):
    """Refuses a non-finite epoch loss (``TrainingError``); with ``verbose``, prints each epoch as MLPClassifier."""

    def __init__(self, name, verbose, score_key):
        self.name = name
        self.verbose = verbose
        self.score_key = score_key

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        loss = logs["loss"]
        if not np.isfinite(loss):
            raise TrainingError(
                f"{self.name}: the training loss became {loss} in epoch {epoch + 1}; lower learning_rate, or scale "
                "the inputs (and, for regression, the targets)"
            )
        if self.verbose:
            extra = f", validation score = {logs[self.score_key]:.6f}" if self.score_key else ""
            print(f"Epoch {epoch + 1}, loss = {loss:.8f}{extra} ({time.perf_counter() - self._started:.3f} s)")


class _BaseNeuralNet(BaseEstimator):
    """What the classifier and the regressor share: arguments, the network (``nn.mlp``), training (with
    ``Trainer``) and the forward pass of predict."""

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        dropout=0.0,
        optimizer="adam",
        learning_rate=1e-3,
        weight_decay=0.0,
        batch_size="auto",
        max_epochs=200,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        random_state=None,
        verbose=False,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.random_state = random_state
        self.verbose = verbose

    # ---- set by the subclasses ---------------------------------------------------------------

    def _prepare_targets(self, y):
        """Validated ``y`` -> (training targets, number of outputs, {learned attribute: value})."""
        raise NotImplementedError

    def _make_loss(self):
        raise NotImplementedError

    _score = None  # the chainrule metric of the validation score, with early_stopping ("accuracy", "r2")

    # ---- arguments ---------------------------------------------------------------------------

    def _hidden_sizes(self):
        return hidden_widths(self.hidden_layer_sizes, "hidden_layer_sizes")

    def _check_params(self, n_samples):
        """Check every argument (in fit, as scikit-learn does); returns (hidden sizes, batch size)."""
        sizes = self._hidden_sizes()
        if not (isinstance(self.activation, str) or isinstance(self.activation, type) and
                issubclass(self.activation, nn.Module)):
            raise ArgumentError(
                f"activation must be a registered activation name or a Module class, got {self.activation!r}"
            )
        if not (_is_real(self.dropout) and 0.0 <= self.dropout < 1.0):
            raise ArgumentError(f"dropout must be a probability in [0, 1), got {self.dropout!r}")
        if not (_is_real(self.learning_rate) and self.learning_rate > 0):
            raise ArgumentError(f"learning_rate must be a number > 0, got {self.learning_rate!r}")
        if not (_is_real(self.weight_decay) and self.weight_decay >= 0):
            raise ArgumentError(f"weight_decay must be a number >= 0, got {self.weight_decay!r}")
        if not _is_int(self.max_epochs, 1):
            raise ArgumentError(f"max_epochs must be an integer >= 1, got {self.max_epochs!r}")
        if not _is_int(self.n_iter_no_change, 1):
            raise ArgumentError(f"n_iter_no_change must be an integer >= 1, got {self.n_iter_no_change!r}")
        if not (_is_real(self.tol) and self.tol >= 0):
            raise ArgumentError(f"tol must be a number >= 0, got {self.tol!r}")
        if not (_is_real(self.validation_fraction) and 0.0 < self.validation_fraction < 1.0):
            raise ArgumentError(f"validation_fraction must be in (0, 1), got {self.validation_fraction!r}")
        if isinstance(self.batch_size, str):
            if self.batch_size != "auto":
                raise ArgumentError(f"batch_size must be a positive integer or 'auto', got {self.batch_size!r}")
            batch_size = min(200, n_samples)
        elif _is_int(self.batch_size, 1):
            batch_size = min(int(self.batch_size), n_samples)
        else:
            raise ArgumentError(f"batch_size must be a positive integer or 'auto', got {self.batch_size!r}")
        return sizes, batch_size

    # ---- the network -------------------------------------------------------------------------

    def _build_model(self, n_in, sizes, n_out, generator, dropout_seed):
        """``nn.mlp``: ``Linear -> activation [-> Dropout]`` per hidden layer, then ``Linear`` to the outputs."""
        activation = self.activation
        if isinstance(activation, str):
            activation = _ACTIVATION_ALIASES.get(activation, activation)
        try:
            return nn.mlp(n_in, sizes, n_out, activation=activation, dropout=float(self.dropout),
                          generator=generator, dropout_seed=dropout_seed)
        except UnknownNameError as exc:  # scikit-learn's convention: a bad parameter is a ValueError
            raise ArgumentError(f"{exc} (or scikit-learn's 'logistic')") from None

    def _make_optimizer(self, params):
        opt = self.optimizer
        if isinstance(opt, str):
            try:
                opt = _registry_get(opt, kind="optimizer")
            except KeyError as exc:
                raise ArgumentError(f"optimizer {self.optimizer!r} is not known: {exc}") from None
        elif not (isinstance(opt, type) and issubclass(opt, _optim.Optimizer)):
            raise ArgumentError(f"optimizer must be a registered name or an Optimizer class, got {self.optimizer!r}")
        return opt(params, lr=float(self.learning_rate), weight_decay=float(self.weight_decay))

    def _seeds(self):
        """Independent seeds for the weights, the batch order, dropout and the validation split."""
        if self.random_state is None:
            root = int(default_generator().integers(2**63))
        else:
            root = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        weights, order, dropout, split = np.random.SeedSequence(root).generate_state(4)
        return np.random.default_rng(int(weights)), int(order), int(dropout), int(split)

    # ---- training ------------------------------------------------------------------------------

    def _fit(self, X, y):
        X = np.asarray(X, dtype=np.float32)
        targets, n_out, learned = self._prepare_targets(y)
        sizes, batch_size = self._check_params(len(X))
        generator, order_seed, dropout_seed, split_seed = self._seeds()

        val = None
        if self.early_stopping:
            stratify = targets if isinstance(self, ClassifierMixin) else None
            X, X_val, targets, t_val = train_test_split(
                X, targets, test_size=self.validation_fraction, random_state=split_seed, stratify=stratify
            )
            batch_size = min(batch_size, len(X))
            # one batch: the score of exactly the forward pass that predict() makes on these rows
            val = DataLoader(TensorDataset(np.ascontiguousarray(X_val), t_val), batch_size=len(X_val))

        model = self._build_model(X.shape[1], sizes, n_out, generator, dropout_seed)
        score_key = f"val_{self._score}" if self.early_stopping else None
        # as MLPClassifier: stop when the training loss (or, with early_stopping, the validation score) has
        # not improved by tol for more than n_iter_no_change epochs; with early_stopping keep the best epoch
        stopper = NoImprovementStopping(
            monitor=score_key or "loss", tol=float(self.tol), n_iter_no_change=int(self.n_iter_no_change),
            mode="max" if self.early_stopping else "min", restore_best_weights=self.early_stopping,
        )
        trainer = _EstimatorTrainer(
            model, self._make_loss(), self._make_optimizer(model.parameters()),
            metrics=[self._score] if self.early_stopping else (),
            callbacks=[_EpochReport(type(self).__name__, self.verbose, score_key), stopper],
        )
        history = trainer.fit((X, targets), val=val, epochs=int(self.max_epochs), batch_size=batch_size,
                              shuffle=True, seed=order_seed, verbose=0)
        if stopper.stopped_epoch < 0:
            warnings.warn(
                f"{type(self).__name__}: max_epochs={self.max_epochs} reached and the optimisation has not "
                "converged yet.",
                ConvergenceWarning,
                stacklevel=3,
            )
        elif self.verbose:
            what = "Validation score" if self.early_stopping else "Training loss"
            print(f"{what} did not improve more than tol={self.tol} for {self.n_iter_no_change} "
                  "consecutive epochs. Stopping.")
        model.zero_grad()  # drop the last gradients: a fitted estimator holds (and pickles) only weights
        model.eval()
        losses = list(history.history["loss"])
        # the learned attributes, set together once training has succeeded
        for name, value in learned.items():
            setattr(self, name, value)
        self.model_ = model
        self.loss_curve_ = losses
        self.best_loss_ = min(losses)
        self.n_iter_ = len(losses)
        self.t_ = len(X) * len(losses)
        self.validation_scores_ = list(history.history[score_key]) if self.early_stopping else None
        self.best_validation_score_ = stopper.best if self.early_stopping else None
        return self

    def _forward(self, X):
        """The network's outputs for validated ``X``, as a NumPy array (eval mode, no graph).

        float32 ``X`` goes through the trained float32 network; float64 ``X`` through a float64 copy of it
        (the same weights, exactly). OpenBLAS picks its kernels by the number of rows, so in float32 a row's
        outputs can differ by a few float32 ulps with the batch it comes in; in float64 they agree to float64
        rounding, the precision the float64 results report (sklearn's check_methods_subset_invariance).
        """
        model = self.model_
        if X.dtype == np.float64:
            model = copy.deepcopy(model).double()
        model.eval()
        with no_grad():
            outs = [model(Tensor._wrap(X[i : i + _PREDICT_CHUNK]))._data for i in range(0, len(X), _PREDICT_CHUNK)]
        return np.concatenate(outs) if len(outs) != 1 else outs[0]

    def _validated_X(self, X):
        """``X`` as a contiguous float32 or float64 array (float32 stays float32; the results have its dtype)."""
        check_is_fitted(self)
        return np.ascontiguousarray(_validate_data(self, X, reset=False, dtype=(np.float64, np.float32)))


class NeuralNetClassifier(ClassifierMixin, _BaseNeuralNet):
    """A multi-layer perceptron classifier trained with chainrule (binary and multiclass).

    Parameters (as ``sklearn.neural_network.MLPClassifier`` where the two share one):

    hidden_layer_sizes : int or tuple of int, default=(100,)
        Widths of the hidden layers; ``()`` gives a linear model (multinomial logistic regression).
    activation : str or Module class, default="relu"
        A registered chainrule activation ("relu", "tanh", "sigmoid", "gelu", "leaky_relu", "elu",
        "silu", "identity", ...; ``chainrule.registry.names("activation")``), scikit-learn's
        "logistic", or a Module class built without arguments (as ``nn.mlp`` takes).
    dropout : float, default=0.0
        Dropout probability after each hidden activation (only while training).
    optimizer : str or Optimizer class, default="adam"
        A registered chainrule optimiser ("adam", "adamw", "sgd", "rmsprop", "adagrad") or its class.
    learning_rate : float, default=1e-3
    weight_decay : float, default=0.0
        The optimiser's weight decay (an L2 penalty, like MLPClassifier's ``alpha``).
    batch_size : int or "auto", default="auto"
        Mini-batch size; "auto" is ``min(200, n_samples)``.
    max_epochs : int, default=200
        The most passes over the training data.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified) and stop when its accuracy
        stops improving; the weights of the best epoch are kept.
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=10
        Epochs without an improvement of at least ``tol`` before training stops.
    tol : float, default=1e-4
    random_state : None, int or RandomState, default=None
    verbose : bool, default=False
        Print the loss of every epoch.

    Attributes: ``classes_``, ``n_features_in_`` (and ``feature_names_in_``), ``model_`` (the
    ``chainrule.nn.Sequential``), ``loss_curve_`` (mean training cross-entropy of each epoch),
    ``best_loss_``, ``n_iter_`` (epochs run), ``t_`` (training samples seen), ``validation_scores_``
    and ``best_validation_score_`` (None without early stopping).
    """

    def _prepare_targets(self, y):
        check_classification_targets(y)
        classes, encoded = np.unique(y, return_inverse=True)
        return encoded.astype(np.int64).reshape(-1), len(classes), {"classes_": classes}

    _score = "accuracy"

    def _make_loss(self):
        return nn.CrossEntropyLoss()

    def fit(self, X, y):
        """Train on ``X`` (n_samples, n_features) and class labels ``y`` (n_samples,); returns self."""
        X, y = _validate_data(self, X, y, reset=True, dtype=(np.float64, np.float32), multi_output=False)
        return self._fit(X, y)

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes), columns in the order of ``classes_``; float32 for
        float32 ``X``, else float64 (the softmax of the network's logits, ``chainrule.metrics.softmax``)."""
        return _metrics.softmax(self._forward(self._validated_X(X)), axis=1)

    def predict_log_proba(self, X):
        """Logarithms of ``predict_proba`` (computed from the logits, so finite where a probability underflows)."""
        return _metrics.log_softmax(self._forward(self._validated_X(X)), axis=1)

    def predict(self, X):
        """The most probable class of each sample."""
        outputs = self._forward(self._validated_X(X))
        return self.classes_[outputs.argmax(axis=1)]


class NeuralNetRegressor(RegressorMixin, _BaseNeuralNet):
    """A multi-layer perceptron regressor trained with chainrule on the mean squared error.

    The same parameters as ``NeuralNetClassifier``; ``y`` may be 1-D or 2-D (several targets), and
    ``predict`` returns the shape ``y`` had. With ``early_stopping`` the validation score is R^2.
    Scale the targets as well as the inputs (``TransformedTargetRegressor(regressor, transformer=
    StandardScaler())``): the network starts with outputs near 0 and unit-scale weights.

    Attributes: ``n_features_in_``, ``n_outputs_``, ``model_``, ``loss_curve_`` (mean squared error
    of each epoch), ``best_loss_``, ``n_iter_``, ``t_``, ``validation_scores_``,
    ``best_validation_score_``.
    """

    def __sklearn_tags__(self):  # scikit-learn >= 1.6
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _more_tags(self):  # older scikit-learn
        return {"multioutput": True}

    def _prepare_targets(self, y):
        y = np.asarray(y, dtype=np.float32)
        one_d = y.ndim == 1
        y = y.reshape(len(y), -1)
        return y, y.shape[1], {"n_outputs_": y.shape[1], "_y_1d": one_d}

    _score = "r2"

    def _make_loss(self):
        return nn.MSELoss()

    def fit(self, X, y):
        """Train on ``X`` (n_samples, n_features) and targets ``y`` (n_samples,) or (n_samples, n_targets)."""
        X, y = _validate_data(
            self, X, y, reset=True, dtype=(np.float64, np.float32), multi_output=True, y_numeric=True
        )
        return self._fit(X, y)

    def predict(self, X):
        """Predicted targets: (n_samples,) if ``y`` was 1-D when fitting, else (n_samples, n_targets); float32 for
        float32 ``X``, else float64."""
        out = self._forward(self._validated_X(X))
        return out.reshape(-1) if self._y_1d else out
