"""Gradient clipping: ``clip_grad_norm_`` and ``clip_grad_value_``, as ``torch.nn.utils``.

Both change the ``.grad`` arrays in place (as PyTorch does); call them between
``loss.backward()`` and ``optimizer.step()``.
"""

import math

import numpy as np

from ..errors import ArgumentError, GradientError
from ..tensor import Tensor


def _grads(parameters, fn):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    grads = []
    for p in parameters:
        if not isinstance(p, Tensor):
            raise ArgumentError(f"{fn}: expected Tensors (Parameters), got a {type(p).__name__}")
        if p.grad is not None:
            grads.append(p.grad._data)
    return grads


def _vector_norm(a, norm_type):
    """``torch.linalg.vector_norm(a, norm_type)``: accumulated in float64, returned in ``a``'s dtype."""
    x = np.abs(a.ravel())
    if norm_type == math.inf:
        value = x.max() if x.size else 0.0
    elif norm_type == -math.inf:
        value = x.min() if x.size else math.inf
    elif norm_type == 0:
        value = np.count_nonzero(x)
    elif norm_type == 1:
        value = x.sum(dtype=np.float64)
    elif norm_type == 2:
        x = x.astype(np.float64)
        value = math.sqrt(np.dot(x, x))
    else:
        value = np.sum(x.astype(np.float64) ** norm_type) ** (1.0 / norm_type)
    return np.asarray(value, dtype=a.dtype)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False):
    """The ``norm_type``-norm of all ``tensors`` (arrays or Tensors) taken together, as a 0-d array."""
    arrays = [t._data if isinstance(t, Tensor) else np.asarray(t) for t in tensors]
    norm_type = float(norm_type)
    if not arrays:
        return np.asarray(0.0, dtype=np.float32)
    norms = np.stack([_vector_norm(a, norm_type) for a in arrays])
    total = _vector_norm(norms, norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise GradientError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is non-finite ({total}), so it "
            "cannot be clipped; look for inf/nan in the loss, or pass error_if_nonfinite=False to scale anyway"
        )
    return total


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale the gradients of ``parameters`` in place so that their total norm is at most ``max_norm``.

    The norm is taken over all gradients together, as if concatenated into one vector
    (``norm_type`` may be ``inf``). Each gradient is multiplied by
    ``min(max_norm / (total_norm + 1e-6), 1)``. Returns the total norm before clipping, as
    a 0-d Tensor.
    """
    grads = _grads(parameters, "clip_grad_norm_")
    try:
        max_norm = float(max_norm)
    except (TypeError, ValueError):
        raise ArgumentError(f"clip_grad_norm_: max_norm must be a number, got {max_norm!r}") from None
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    if grads:
        dtype = total.dtype
        coef = np.asarray(max_norm, dtype=dtype) / (total + np.asarray(1e-6, dtype=dtype))
        coef = np.minimum(coef, np.asarray(1.0, dtype=dtype))
        for g in grads:
            g *= coef
    return Tensor._wrap(total)


def clip_grad_value_(parameters, clip_value):
    """Clip every gradient of ``parameters`` in place to ``[-clip_value, clip_value]``."""
    grads = _grads(parameters, "clip_grad_value_")
    try:
        clip_value = float(clip_value)
    except (TypeError, ValueError):
        raise ArgumentError(f"clip_grad_value_: clip_value must be a number, got {clip_value!r}") from None
    for g in grads:
        np.clip(g, -clip_value, clip_value, out=g)


__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm"]
