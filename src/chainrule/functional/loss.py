"""Loss functions, with the arguments and semantics of ``torch.nn.functional``.

Every loss takes ``reduction='mean' | 'sum' | 'none'``. Unlike PyTorch, a target whose shape does
not fit the prediction is an error (``ShapeError``), never a silent broadcast: ``mse_loss`` of
(32, 1) against (32,) would otherwise compare every prediction with every target.

Cross-entropy (class targets), nll, and both binary cross-entropies are fused primitives
(``chainrule.ops.loss``, each says why); mse, l1, huber, smooth l1, kl_div and cross-entropy with
probability targets are composites of primitives.

Class-index targets must have an integer dtype, as in PyTorch: a float target of the class-index
shape is a ``DTypeError`` (even ``1.0``; convert it with ``target.long()``), and when it holds a
value that is not a whole number (``0.7``) the message names the first one, since converting it
would truncate it to a class. ``Trainer`` converts float targets that hold only whole numbers
(a label column read as floats), through ``_class_indices``, and refuses the others the same way.

Each loss function declares what it expects, as the loss modules do (see ``chainrule.nn.loss``):
``target_kind`` is ``"class_index"``, ``"probability"`` or ``"value"``, and ``input_kind`` is
``"logits"``, ``"probability"``, ``"log_probability"`` or ``"value"``.
"""

import numpy as np

from ..errors import ArgumentError, DTypeError, ShapeError
from ..ops import loss as L
from ..ops import nn as N
from ..tensor import Tensor
from .core import where

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "mse_loss",
    "nll_loss",
    "smooth_l1_loss",
]

_REDUCTIONS = ("mean", "sum", "none")
TARGET_KINDS = ("class_index", "probability", "value")  # what a loss's target holds
INPUT_KINDS = ("logits", "probability", "log_probability", "value")  # what a loss's input (the model's output) holds


def _kinds(target_kind, input_kind):
    """Decorator: declare a loss function's ``target_kind`` and ``input_kind`` (read by ``Trainer``)."""

    def deco(fn):
        fn.target_kind, fn.input_kind = target_kind, input_kind
        return fn

    return deco


# ---- argument checks -------------------------------------------------------------------------------


def _check_reduction(name, reduction):
    if not isinstance(reduction, str) or reduction not in _REDUCTIONS:
        raise ArgumentError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _check_label_smoothing(name, label_smoothing):
    if not 0.0 <= label_smoothing <= 1.0:
        raise ArgumentError(f"{name}: label_smoothing must be between 0.0 and 1.0, got {label_smoothing!r}")


def _input(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def _float_target(name, x, target):
    """The target of an elementwise loss: a float Tensor passes through (it may need a gradient); anything
    else becomes a constant array in the input's dtype. Its shape must be the input's."""
    raw = target._data if isinstance(target, Tensor) else np.asarray(target)
    if raw.shape != x.shape:
        fix = f"target.reshape({x.shape})" if raw.size == x._data.size else "a target of the input's shape"
        raise ShapeError(
            f"{name}: target of shape {raw.shape} does not match input of shape {x.shape}; losses do not "
            f"broadcast, so pass {fix}"
        )
    if isinstance(target, Tensor) and raw.dtype.kind == "f":
        return target
    return raw.astype(x.dtype, copy=False)


def _constant(name, arg, value, x, exact_shape=None):
    """A weight-like argument as a constant array; it must broadcast to the input's shape (or be ``exact_shape``)."""
    if value is None:
        return None
    a = np.asarray(value._data if isinstance(value, Tensor) else value)
    if a.dtype.kind not in "biuf":
        raise DTypeError(f"{name}: {arg} must be numeric, got dtype {a.dtype}")
    a = a.astype(x.dtype, copy=False)
    if exact_shape is not None:
        if a.shape != exact_shape:
            raise ShapeError(
                f"{name}: {arg} of shape {a.shape} does not fit input of shape {x.shape}: "
                f"expected one value per class, shape {exact_shape}"
            )
        return a
    try:
        fits = np.broadcast_shapes(a.shape, x.shape) == x.shape
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(f"{name}: {arg} of shape {a.shape} does not broadcast to input of shape {x.shape}")
    return a


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


# ---- regression ------------------------------------------------------------------------------------


@_kinds("value", "value")
def mse_loss(input, target, reduction="mean"):
    """Squared error (input - target)^2."""
    _check_reduction("mse_loss", reduction)
    x = _input(input)
    d = x - _float_target("mse_loss", x, target)
    return _reduce(d * d, reduction)


@_kinds("value", "value")
def l1_loss(input, target, reduction="mean"):
    """Absolute error |input - target| (gradient 0 where they are equal, as PyTorch)."""
    _check_reduction("l1_loss", reduction)
    x = _input(input)
    return _reduce((x - _float_target("l1_loss", x, target)).abs(), reduction)


@_kinds("value", "value")
def huber_loss(input, target, reduction="mean", delta=1.0):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta), with d = input - target."""
    _check_reduction("huber_loss", reduction)
    if not delta > 0:
        raise ArgumentError(f"huber_loss: delta must be positive, got {delta!r}")
    x = _input(input)
    d = x - _float_target("huber_loss", x, target)
    a = d.abs()
    loss = where(a._data < delta, d * d * 0.5, (a - 0.5 * delta) * delta)
    return _reduce(loss, reduction)


# ---- binary classification -------------------------------------------------------------------------


@_kinds("probability", "probability")
def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """-w (y log p + (1 - y) log(1 - p)) on probabilities p, each log clamped at -100 (as PyTorch)."""
    name = "binary_cross_entropy"
    _check_reduction(name, reduction)
    p = _input(input)
    y = _float_target(name, p, target)
    if np.any((p._data < 0) | (p._data > 1)):
        raise ArgumentError(
            f"{name}: input must hold probabilities in [0, 1], got values from {p._data.min():.6g} to "
            f"{p._data.max():.6g}; for logits use binary_cross_entropy_with_logits"
        )
    w = _constant(name, "weight", weight, p)
    return _reduce(L.BinaryCrossEntropy.apply(p, y, weight=w), reduction)


@_kinds("probability", "logits")
def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    """Binary cross-entropy on logits, stable for logits of any size; ``pos_weight`` weighs the positive term."""
    name = "binary_cross_entropy_with_logits"
    _check_reduction(name, reduction)
    x = _input(input)
    y = _float_target(name, x, target)
    w = _constant(name, "weight", weight, x)
    pw = _constant(name, "pos_weight", pos_weight, x)
    return _reduce(L.BinaryCrossEntropyWithLogits.apply(x, y, weight=w, pos_weight=pw), reduction)


# ---- multi-class classification --------------------------------------------------------------------


def _first_non_integer(raw):
    """(position, value) of the first element of float array ``raw`` that is not a whole number an int64 holds
    (0.7, nan, inf, 1e19), or None if every element is one."""
    bad = (raw != np.rint(raw)) | ~(np.abs(raw) < 2.0**63)  # nan and inf fail both; rint keeps 1e19 whole
    if not bad.any():
        return None
    flat = int(np.argmax(bad.reshape(-1)))
    pos = np.unravel_index(flat, raw.shape)
    return (int(pos[0]) if raw.ndim == 1 else tuple(int(i) for i in pos)), raw.reshape(-1)[flat]  # a NumPy scalar


def _not_a_class(name, raw, found):
    pos, value = found
    why = f" (truncating it would make it class {int(value)})" if np.isfinite(value) and abs(value) < 2.0**63 else ""
    return (
        f"{name}: class-index targets must be integers; the target at index {pos} is {value!s}, which is not a "
        f"class index{why}; pass the class of each sample, or class probabilities with the input's shape"
    )


def _class_dtype_error(name, raw):
    """The DTypeError for class-index targets of a non-integer dtype; names the first value that is not whole."""
    found = _first_non_integer(raw) if raw.dtype.kind == "f" and raw.size else None
    if found is not None:
        return DTypeError(_not_a_class(name, raw, found))
    return DTypeError(
        f"{name}: class-index targets must be integers, got dtype {raw.dtype}; convert them with "
        "target.long() (or .astype(np.int64))"
    )


def _class_indices(name, target):
    """Class-index targets as an integer array, for callers that accept floats holding whole numbers (``Trainer``:
    a label column read as floats). Integer arrays pass through unchanged, whole floats (``1.0``) become
    int64; a value that is not a whole number (``0.7``, nan) raises DTypeError naming the first one."""
    raw = target._data if isinstance(target, Tensor) else np.asarray(target)
    if raw.dtype.kind in "iu":
        return raw
    if raw.dtype.kind != "f":
        raise _class_dtype_error(name, raw)
    found = _first_non_integer(raw) if raw.size else None
    if found is not None:
        raise DTypeError(_not_a_class(name, raw, found))
    return raw.astype(np.int64)


def _class_target(name, x, target, ignore_index):
    """Integer class targets as an array of shape (N, d1, ...) for input (N, C, d1, ...), checked."""
    raw = target._data if isinstance(target, Tensor) else np.asarray(target)
    expected = x.shape[:1] + x.shape[2:] if x.ndim > 1 else ()
    if raw.shape != expected:
        raise ShapeError(
            f"{name}: target of shape {raw.shape} does not fit input of shape {x.shape}: class-index targets "
            f"need shape {expected} (the input's shape without the class axis {1 if x.ndim > 1 else 0})"
            + (", probability targets the input's shape" if name == "cross_entropy" else "")
        )
    if raw.dtype.kind not in "iu":
        raise _class_dtype_error(name, raw)
    n_classes = x.shape[1] if x.ndim > 1 else x.shape[0]
    # one reduction checks both ends: viewed as unsigned, a negative target is larger than any class
    unsigned = raw.view(raw.dtype.str.replace("i", "u")) if raw.dtype.kind == "i" else raw
    if raw.size and unsigned.max() >= n_classes:
        bad = (raw != ignore_index) & ((raw < 0) | (raw >= n_classes))
        if bad.any():
            raise ArgumentError(
                f"{name}: target {raw[bad].flat[0]} is out of range for {n_classes} classes "
                f"(targets must be in 0..{n_classes - 1}, or ignore_index={ignore_index})"
            )
        return raw, False
    return raw, not 0 <= ignore_index < n_classes


def _class_loss(op, name, input, target, weight, ignore_index, reduction, **options):
    """Run a fused class-target op; a 1-D input (C,) with a 0-d target is one sample (as PyTorch)."""
    x = _input(input)
    if x.ndim == 0 or (x.shape[1] if x.ndim > 1 else x.shape[0]) == 0:
        raise ShapeError(f"{name}: input of shape {x.shape} has no class axis; expected (C,), (N, C) or (N, C, ...)")
    y, all_valid = _class_target(name, x, target, ignore_index)
    if all_valid:  # every target is a class (none equals ignore_index): the ops skip the masking
        ignore_index = None
    n_classes = x.shape[1] if x.ndim > 1 else x.shape[0]
    w = _constant(name, "weight", weight, x, exact_shape=(n_classes,))
    if x.ndim == 1:
        out = op.apply(
            x.reshape(1, n_classes), y.reshape(1), weight=w, ignore_index=ignore_index, reduction=reduction, **options
        )
        return out.reshape(()) if reduction == "none" else out
    return op.apply(x, y, weight=w, ignore_index=ignore_index, reduction=reduction, **options)


@_kinds("class_index", "logits")
def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """Cross-entropy of logits ``input`` (N, C) or (N, C, d1, ...) against class indices (N,) or (N, d1, ...),
    or against class probabilities of the input's shape (as torch.nn.functional.cross_entropy).

    With class indices and ``reduction='mean'`` the sum is divided by the total weight of the targets
    that are not ``ignore_index`` (nan when all are ignored); with probabilities, by the number of samples.
    """
    name = "cross_entropy"
    _check_reduction(name, reduction)
    _check_label_smoothing(name, label_smoothing)
    x = _input(input)
    raw = target._data if isinstance(target, Tensor) else np.asarray(target)
    if x.ndim == 0 or raw.shape != x.shape:
        return _class_loss(
            L.CrossEntropy, name, x, target, weight, ignore_index, reduction, label_smoothing=label_smoothing
        )
    # probability targets: a composite (log_softmax is the fused, stable part), differentiable in the target
    if raw.dtype.kind != "f":
        raise DTypeError(
            f"{name}: a target of the input's shape {x.shape} holds class probabilities and must be floating "
            f"point, got dtype {raw.dtype}; class indices have shape {x.shape[:1] + x.shape[2:]}"
        )
    if ignore_index >= 0:
        raise ArgumentError(f"{name}: ignore_index ({ignore_index}) is not supported with probability targets")
    axis = 1 if x.ndim > 1 else 0
    n_classes = x.shape[axis]
    w = _constant(name, "weight", weight, x, exact_shape=(n_classes,))
    q = target if isinstance(target, Tensor) else raw.astype(x.dtype, copy=False)
    if label_smoothing:
        q = q * (1 - label_smoothing) + label_smoothing / n_classes
    prod = N.LogSoftmax.apply(x, axis=axis) * q
    if w is not None:
        prod = prod * w.reshape((n_classes,) + (1,) * (x.ndim - axis - 1))
    return _reduce(-prod.sum(axis=axis), reduction)


@_kinds("class_index", "log_probability")
def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood of log-probabilities ``input`` (N, C) or (N, C, d1, ...) at class indices
    ``target`` (N,) or (N, d1, ...): -w[y] input[y], with a mean weighted as cross_entropy's."""
    _check_reduction("nll_loss", reduction)
    return _class_loss(L.NLLLoss, "nll_loss", input, target, weight, ignore_index, reduction)


# ---- smooth l1, Kullback-Leibler -------------------------------------------------------------------


@_kinds("value", "value")
def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta, with d = input - target (as
    torch.nn.functional.smooth_l1_loss; ``beta=0`` is the l1 loss). It is ``huber_loss`` divided by beta."""
    name = "smooth_l1_loss"
    _check_reduction(name, reduction)
    if isinstance(beta, bool) or not isinstance(beta, int | float | np.number) or not beta >= 0:
        raise ArgumentError(f"{name}: beta must be a number >= 0, got {beta!r:.60}")
    x = _input(input)
    d = x - _float_target(name, x, target)
    a = d.abs()
    if beta == 0:
        return _reduce(a, reduction)
    return _reduce(where(a._data < beta, d * d * 0.5 / beta, a - 0.5 * beta), reduction)


def _xlogx(t):
    """t log t, 0 where t is 0 (``torch.xlogy(t, t)``); nan where t < 0, without a warning (as PyTorch)."""
    zero = t._data == 0
    with np.errstate(invalid="ignore"):
        if not zero.any():
            return t * t.log()
        return where(zero, 0.0, t * where(zero, 1.0, t).log())


_KL_REDUCTIONS = ("mean", "batchmean", "sum", "none")


@_kinds("probability", "log_probability")
def kl_div(input, target, reduction="mean", log_target=False):
    """The Kullback-Leibler divergence of ``target`` from the distribution whose log-probabilities are
    ``input``, pointwise ``target * (log(target) - input)`` (0 where the target is 0), or with
    ``log_target`` (the target given as log-probabilities too) ``exp(target) * (target - input)``.

    ``reduction='batchmean'`` divides the sum by the batch size (the first axis), which gives the
    divergence of the math; ``'mean'`` divides by the number of elements, as PyTorch does (PyTorch warns
    about it; chainrule does not). A target of zero has a zero gradient (PyTorch's is nan there).
    """
    name = "kl_div"
    if not isinstance(reduction, str) or reduction not in _KL_REDUCTIONS:
        raise ArgumentError(f"{name}: reduction must be 'mean', 'batchmean', 'sum' or 'none', got {reduction!r:.60}")
    x = _input(input)
    t = _float_target(name, x, target)
    t = t if isinstance(t, Tensor) else Tensor._wrap(t)
    loss = t.exp() * (t - x) if log_target else _xlogx(t) - t * x
    if reduction == "batchmean":
        total = loss.sum()
        return total / x.shape[0] if x.ndim else total
    return _reduce(loss, reduction)
