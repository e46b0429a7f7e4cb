"""Fused loss primitives, kept only where fusing pays; each says why it is fused.

The other losses (mse, l1, huber, cross-entropy with probability targets) are composites
in ``chainrule.functional.loss``.

Class-target losses take logits or log-probabilities of shape (N, C, d1, ...) and integer
targets of shape (N, d1, ...): the class axis is axis 1. Their reduction happens inside the op,
because the mean is weighted (divided by the sum of the weights of the targets not ignored).
"""

import numpy as np

from ..autograd.function import Primitive
from ..backend import array_module


def _class_weights(target, weight, ignore_index, dtype):
    """(valid mask, index of every target's class in the input, weight of each target, 0 where ignored).

    ``ignore_index=None`` says that no target is ignored. The index is a tuple for ``x[index]`` on an
    input (N, C, d1, ...): it picks one value per target, shape (N, d1, ...), each element once (so
    ``grad[index] -= v`` is a correct scatter)."""
    xp = array_module(target)
    if ignore_index is None:
        valid, y = xp.ones(target.shape, dtype=bool), target
    else:
        valid = target != ignore_index
        y = xp.where(valid, target, 0)
    # one index array per axis but the class axis, each shaped to broadcast along its own axis (a sparse grid)
    grids = [xp.arange(n).reshape((1,) * i + (n,) + (1,) * (y.ndim - i - 1)) for i, n in enumerate(y.shape)]
    index = (grids[0], y, *grids[1:])
    wy = valid.astype(dtype) if weight is None else xp.where(valid, weight[y], 0).astype(dtype, copy=False)
    return valid, index, wy


def _reduce(self, loss, wy, reduction):
    """Reduce per-target losses; remember the scale of the reduction for the backward. ``wy``: the targets'
    weights (an array), or their total (a number)."""
    self.reduction = reduction
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    self.total = wy.sum() if getattr(wy, "ndim", 0) else wy
    # every target ignored: nan, as PyTorch's 0 / 0 (a product with nan raises no floating-point warning)
    return total / self.total if self.total else total * np.nan


def _coefficient(self, g):
    """d out / d loss_i for each target: the upstream gradient, divided by the total weight for a mean
    (nan for a total of 0; the callers mask ignored targets with where, which gives them 0, as PyTorch)."""
    if self.reduction == "mean":
        return g / self.total if self.total else g * np.nan
    return g


def _class_axis(a):
    """``a`` (N, d1, ...) with an axis of length 1 inserted as axis 1, to broadcast against (N, C, d1, ...)."""
    return a[:, None]


class CrossEntropy(Primitive):
    """Fused log-softmax + pick + weights + ignore_index + label smoothing: stable for logits of any size
    (shift by the max), one node instead of eight, and no dense one-hot target in either direction."""

    name = "cross_entropy"

    def forward(self, x, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        self.plain = ignore_index is None and weight is None and not label_smoothing and x.ndim == 2 and len(x)
        if self.plain:
            return self._plain_forward(x, target, reduction)
        n_classes = x.shape[1]
        if weight is not None:
            weight = weight.astype(x.dtype, copy=False)
        valid, index, wy = _class_weights(target, weight, ignore_index, x.dtype)
        shifted = x - x.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        s = e.sum(axis=1, keepdims=True)
        lse = np.log(s[:, 0])
        # -log p(target); ignored entries are masked with where (not by a product), so -inf logits give 0, not nan
        xp = array_module(x)
        loss = wy * xp.where(valid, lse - shifted[index], 0)
        eps = float(label_smoothing)
        if eps:
            # sum_c w_c (-log p_c) = lse * sum_c w_c - sum_c w_c shifted_c: no (N, C) array of log-probabilities
            if weight is None:
                smooth = lse * n_classes - shifted.sum(axis=1)
            else:
                smooth = lse * weight.sum() - (shifted * self._class_shape(weight, x.ndim)).sum(axis=1)
            loss = (1 - eps) * loss + (eps / n_classes) * xp.where(valid, smooth, 0)
        e /= s  # the softmax, kept for the backward
        self.saved = (e, index, valid, wy, weight)
        self.eps = eps
        return _reduce(self, loss, wy, reduction)

    def _plain_forward(self, x, target, reduction):
        """The common case, (N, C) logits and N class targets, none ignored, no weights or smoothing:
        the same arithmetic as the general path with its masks and weights of 1 left out."""
        index = (array_module(x).arange(len(x)), target)
        shifted = x - x.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        s = e.sum(axis=1, keepdims=True)
        loss = np.log(s[:, 0])
        loss -= shifted[index]
        e /= s
        self.saved = (e, index)
        return _reduce(self, loss, x.dtype.type(len(x)), reduction)  # every target weighs 1

    def _plain_backward(self, g):
        p, index = self.saved
        c = g / self.total if self.reduction == "mean" else g
        grad = p * (c[:, None] if c.ndim else c)
        grad[index] -= c
        return grad, None

    @staticmethod
    def _class_shape(weight, ndim):
        return weight.reshape((1, weight.shape[0]) + (1,) * (ndim - 2))

    def backward(self, g):
        # d loss_i / d x_i = softmax_i * sum(q_i) - q_i, where q_i is the target distribution of sample i:
        # (1 - eps) w_y one-hot(y) + eps / C * w (it sums to 1 only without weights)
        if self.plain:
            return self._plain_backward(g)
        p, index, valid, wy, weight = self.saved
        eps, n_classes = self.eps, p.shape[1]
        c = _coefficient(self, g)
        xp = array_module(p)
        hit = xp.where(valid, c * ((1 - eps) * wy), 0)
        if eps:
            spread = xp.where(valid, c * (eps / n_classes), 0)
            mass = hit + spread * (n_classes if weight is None else weight.sum())
        else:
            mass = hit
        grad = p * _class_axis(mass)
        grad[index] -= hit
        if eps:
            spread = _class_axis(spread)
            grad -= spread if weight is None else spread * self._class_shape(weight, p.ndim)
        return grad, None


class NLLLoss(Primitive):
    """Fused pick + weights + ignore_index + weighted mean: one node, and no dense (N, C) one-hot target."""

    name = "nll_loss"

    def forward(self, x, target, weight=None, ignore_index=-100, reduction="mean"):
        if weight is not None:
            weight = weight.astype(x.dtype, copy=False)
        valid, index, wy = _class_weights(target, weight, ignore_index, x.dtype)
        loss = -wy * array_module(x).where(valid, x[index], 0)
        self.saved = (index, valid, wy)
        self.in_shape, self.dtype = x.shape, x.dtype
        return _reduce(self, loss, wy, reduction)

    def backward(self, g):
        index, valid, wy = self.saved
        xp = array_module(wy)
        grad = xp.zeros(self.in_shape, dtype=self.dtype)
        grad[index] = xp.where(valid, -_coefficient(self, g) * wy, 0)
        return grad, None


class BinaryCrossEntropy(Primitive):
    """Fused for stability: log p and log(1 - p) are clamped at -100 with no warning at p = 0 or 1, and the
    gradient (p - y) / max(p (1 - p), 1e-12) stays finite there, as PyTorch's (a composite would give nan).

    Elementwise (the caller reduces). The target's gradient is w (log(1 - p) - log p) with the clamped logs,
    finite at p = 0 or 1 where PyTorch's is infinite."""

    name = "binary_cross_entropy"

    def forward(self, p, y, weight=None):
        with np.errstate(divide="ignore"):
            lp = np.maximum(np.log(p), -100)
            l1p = np.maximum(np.log1p(-p), -100)
        loss = -(y * lp + (1 - y) * l1p)
        if weight is not None:
            weight = weight.astype(p.dtype, copy=False)
            loss *= weight
        self.saved = (p, y, lp, l1p, weight)
        return loss

    def backward(self, g):
        p, y, lp, l1p, weight = self.saved
        if weight is not None:
            g = g * weight
        n = self.needs_input_grad
        gp = g * (p - y) / np.maximum(p * (1 - p), p.dtype.type(1e-12)) if n[0] else None
        gy = g * (l1p - lp) if n[1] else None
        return gp, gy


class BinaryCrossEntropyWithLogits(Primitive):
    """Fused for stability and speed: max(x, 0) - x y + log1p(exp(-|x|)) never overflows and keeps log1p's
    precision, in one node where the composite takes seven; the gradient is sigmoid(x) - y.

    With ``pos_weight`` (as PyTorch): (1 - y) x - (1 + (pos_weight - 1) y) log_sigmoid(x). Elementwise."""

    name = "binary_cross_entropy_with_logits"

    def forward(self, x, y, weight=None, pos_weight=None):
        e = np.exp(-np.abs(x))
        log1pe = np.log1p(e)
        if pos_weight is None:
            loss = np.maximum(x, 0) - x * y + log1pe
            log_sig = None
        else:
            pos_weight = pos_weight.astype(x.dtype, copy=False)
            log_sig = np.minimum(x, 0) - log1pe
            loss = (1 - y) * x - (1 + (pos_weight - 1) * y) * log_sig
        if weight is not None:
            weight = weight.astype(x.dtype, copy=False)
            loss = loss * weight
        self.saved = (x, y, e, log_sig, weight, pos_weight)
        return loss

    def backward(self, g):
        x, y, e, log_sig, weight, pos_weight = self.saved
        if weight is not None:
            g = g * weight
        n = self.needs_input_grad
        pos = x >= 0
        inv = 1 / (1 + e)
        xp = array_module(x)
        sig = xp.where(pos, inv, e * inv)  # sigmoid(x) from exp(-|x|): no overflow
        gx = gy = None
        if pos_weight is None:
            if n[0]:
                gx = g * (sig - y)
            if n[1]:
                gy = -g * x
        else:
            if n[0]:
                sig_neg = xp.where(pos, e * inv, inv)  # sigmoid(-x) = 1 - sigmoid(x), without cancellation
                gx = g * ((1 - y) - (1 + (pos_weight - 1) * y) * sig_neg)
            if n[1]:
                gy = -g * (x + (pos_weight - 1) * log_sig)
        return gx, gy
