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

``random_state`` fixes everything random (initial weights, batch order, dropout masks and the
validation split): the same ``random_state`` gives the same network, bit for bit. With
``random_state=None`` the seed is drawn from chainrule's default generator, so ``cr.manual_seed``
makes a run reproducible too. Nothing global is reseeded, and with a ``random_state`` the result does
not depend on chainrule's default generator.

This module needs scikit-learn (``pip install scikit-learn``); the rest of chainrule does not.
"""

import numbers
import time
import warnings

import numpy as np

from . import nn
from . import optim as _optim
from .autograd import no_grad
from .data import DataLoader, TensorDataset
from .errors import ArgumentError, ChainruleError, TrainingError
from .random import default_generator
from .registry import get as _registry_get
from .tensor import Tensor


class MissingDependencyError(ChainruleError, ImportError):
    """An optional dependency of chainrule (here scikit-learn) is not installed."""


try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import r2_score
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


class _BaseNeuralNet(BaseEstimator):
    """What the classifier and the regressor share: arguments, the network, the training loop and predict."""

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

    def _validation_score(self, outputs, targets):
        raise NotImplementedError

    # ---- arguments ---------------------------------------------------------------------------

    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = (sizes,) if isinstance(sizes, numbers.Integral) else sizes
        try:
            sizes = tuple(sizes)
        except TypeError:
            sizes = None
        if sizes is None or not all(_is_int(s, 1) for s in sizes):
            raise ArgumentError(
                f"hidden_layer_sizes must be a positive integer or a sequence of them, got {self.hidden_layer_sizes!r}"
            )
        return tuple(int(s) for s in sizes)

    def _check_params(self, n_samples):
        """Check every argument (in fit, as scikit-learn does); returns (hidden sizes, batch size)."""
        sizes = self._hidden_sizes()
        if not isinstance(self.activation, str):
            raise ArgumentError(f"activation must be a registered activation name, got {self.activation!r}")
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
        """``Linear -> activation [-> Dropout]`` per hidden layer, then ``Linear`` to the outputs."""
        name = _ACTIVATION_ALIASES.get(self.activation, self.activation)
        try:
            activation = _registry_get(name)
            activation()
        except KeyError as exc:
            raise ArgumentError(f"activation {self.activation!r} is not known: {exc}") from None
        except TypeError:  # a registered module that needs arguments ("linear"): not an activation
            msg = f"{self.activation!r} is not an activation (it cannot be built without arguments)"
            raise ArgumentError(msg) from None
        layers = []
        widths = (n_in, *sizes)
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
            layers += [self._linear(a, b, generator), activation()]
            if self.dropout > 0:
                layers.append(nn.Dropout(float(self.dropout), seed=dropout_seed + i))
        layers.append(self._linear(widths[-1], n_out, generator))
        return nn.Sequential(*layers)

    @staticmethod
    def _linear(n_in, n_out, generator):
        layer = nn.Linear(n_in, n_out)
        layer.reset_parameters(generator=generator)  # the initial weights from our generator, not the default one
        return layer

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

        if self.early_stopping:
            stratify = targets if isinstance(self, ClassifierMixin) else None
            X, X_val, targets, t_val = train_test_split(
                X, targets, test_size=self.validation_fraction, random_state=split_seed, stratify=stratify
            )
            batch_size = min(batch_size, len(X))
            X_val_t = Tensor._wrap(np.ascontiguousarray(X_val))

        model = self._build_model(X.shape[1], sizes, n_out, generator, dropout_seed)
        optimizer = self._make_optimizer(model.parameters())
        loss_fn = self._make_loss()
        loader = DataLoader(TensorDataset(X, targets), batch_size=batch_size, shuffle=True, seed=order_seed)

        losses, scores = [], []
        best_loss, best_score, best_state, stalled = np.inf, -np.inf, None, 0
        n = len(X)
        for epoch in range(self.max_epochs):
            started = time.perf_counter()
            model.train()
            total = 0.0
            for xb, yb in loader:
                loss = loss_fn(model(xb), yb)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += float(loss.item()) * len(xb)
            epoch_loss = total / n
            if not np.isfinite(epoch_loss):
                raise TrainingError(
                    f"{type(self).__name__}: the training loss became {epoch_loss} in epoch {epoch + 1}; lower "
                    "learning_rate, or scale the inputs (and, for regression, the targets)"
                )
            losses.append(epoch_loss)
            if self.early_stopping:  # as MLPClassifier: improving means by at least tol, the best is kept
                model.eval()
                with no_grad():
                    score = float(self._validation_score(model(X_val_t).data, t_val))
                scores.append(score)
                improved = score >= best_score + self.tol
                if score > best_score:
                    best_score, best_state = score, model.state_dict()
            else:
                improved = epoch_loss <= best_loss - self.tol
            best_loss = min(best_loss, epoch_loss)
            stalled = 0 if improved else stalled + 1
            if self.verbose:
                extra = f", validation score = {score:.6f}" if self.early_stopping else ""
                print(f"Epoch {epoch + 1}, loss = {epoch_loss:.8f}{extra} ({time.perf_counter() - started:.3f} s)")
            if stalled > self.n_iter_no_change:  # as MLPClassifier: stop after n_iter_no_change + 1 such epochs
                if self.verbose:
                    what = "Validation score" if self.early_stopping else "Training loss"
                    print(f"{what} did not improve more than tol={self.tol} for {self.n_iter_no_change} "
                          "consecutive epochs. Stopping.")
                break
        else:
            warnings.warn(
                f"{type(self).__name__}: max_epochs={self.max_epochs} reached and the optimisation has not "
                "converged yet.",
                ConvergenceWarning,
                stacklevel=3,
            )
        if best_state is not None:
            model.load_state_dict(best_state)
        model.zero_grad()  # drop the last gradients: a fitted estimator holds (and pickles) only weights
        model.eval()
        # the learned attributes, set together once training has succeeded
        for name, value in learned.items():
            setattr(self, name, value)
        self.model_ = model
        self.loss_curve_ = losses
        self.best_loss_ = best_loss
        self.n_iter_ = len(losses)
        self.t_ = n * len(losses)
        self.validation_scores_ = scores if self.early_stopping else None
        self.best_validation_score_ = best_score if self.early_stopping else None
        return self

    def _forward(self, X):
        """The network's outputs for validated float32 ``X``, as a NumPy array (eval mode, no graph)."""
        model = self.model_
        model.eval()
        with no_grad():
            outs = [model(Tensor._wrap(X[i : i + _PREDICT_CHUNK])).data for i in range(0, len(X), _PREDICT_CHUNK)]
        return np.concatenate(outs) if len(outs) != 1 else outs[0]

    def _validated_X(self, X):
        check_is_fitted(self)
        X = _validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        return np.ascontiguousarray(X, dtype=np.float32)


class NeuralNetClassifier(ClassifierMixin, _BaseNeuralNet):
    """A multi-layer perceptron classifier trained with chainrule (binary and multiclass).

    Parameters (as ``sklearn.neural_network.MLPClassifier`` where the two share one):

    hidden_layer_sizes : int or tuple of int, default=(100,)
        Widths of the hidden layers; ``()`` gives a linear model (multinomial logistic regression).
    activation : str, default="relu"
        A registered chainrule activation ("relu", "tanh", "sigmoid", "gelu", "leaky_relu", "elu",
        "silu", "identity", ...), or scikit-learn's "logistic".
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

    def _make_loss(self):
        return nn.CrossEntropyLoss()

    def _validation_score(self, outputs, targets):
        return float(np.mean(outputs.argmax(axis=1) == targets))

    def fit(self, X, y):
        """Train on ``X`` (n_samples, n_features) and class labels ``y`` (n_samples,); returns self."""
        X, y = _validate_data(self, X, y, reset=True, dtype=(np.float64, np.float32), multi_output=False)
        return self._fit(X, y)

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes), columns in the order of ``classes_``."""
        logits = self._forward(self._validated_X(X)).astype(np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        np.exp(logits, out=logits)
        logits /= logits.sum(axis=1, keepdims=True)
        return logits

    def predict_log_proba(self, X):
        """Logarithms of ``predict_proba``."""
        logits = self._forward(self._validated_X(X)).astype(np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))

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

    def _make_loss(self):
        return nn.MSELoss()

    def _validation_score(self, outputs, targets):
        return float(r2_score(targets.astype(np.float64), outputs.astype(np.float64)))

    def fit(self, X, y):
        """Train on ``X`` (n_samples, n_features) and targets ``y`` (n_samples,) or (n_samples, n_targets)."""
        X, y = _validate_data(
            self, X, y, reset=True, dtype=(np.float64, np.float32), multi_output=True, y_numeric=True
        )
        return self._fit(X, y)

    def predict(self, X):
        """Predicted targets: (n_samples,) if ``y`` was 1-D when fitting, else (n_samples, n_targets)."""
        out = self._forward(self._validated_X(X)).astype(np.float64)
        return out.reshape(-1) if self._y_1d else out
