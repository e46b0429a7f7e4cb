"""A public finite-difference gradient checker, in float64 (as torch.autograd.gradcheck)."""

import numpy as np

from ..errors import GradientError
from . import engine
from . import function as _function


def _outputs(fn, inputs):
    out = fn(*inputs)
    return list(out) if isinstance(out, tuple | list) else [out]


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, *, raise_exception=True, nondet_tol=0.0, fast_mode=False,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False):
    """Check the gradients of ``fn`` at ``inputs`` against central finite differences.

    ``inputs`` is a Tensor or a tuple of them (other values are passed through). Floating
    inputs are copied to float64; those with ``requires_grad`` are checked. Every output
    element's gradient (a full Jacobian, one backward per output element) is compared
    with ``(f(x + eps) - f(x - eps)) / (2 eps)``. Returns True, or raises ``GradientError``
    naming the input, the worst element and both values (``raise_exception=False``: returns False).
    The other keywords are PyTorch's and are accepted for its scripts: chainrule's backward is
    deterministic (``nondet_tol``) and the check always builds the full Jacobian (``fast_mode``).
    """
    Tensor = _function._Tensor
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    xs = []
    for x in inputs:
        if isinstance(x, Tensor) and x.dtype.kind == "f":
            c = Tensor._wrap(np.array(x._data, dtype=np.float64))
            c.requires_grad = x.requires_grad
            xs.append(c)
        else:
            xs.append(x)
    wrt = [i for i, x in enumerate(xs) if isinstance(x, Tensor) and x.requires_grad]
    if not wrt:
        raise GradientError("gradcheck: no input requires grad; pass tensors created with requires_grad=True")

    outs = _outputs(fn, xs)
    sizes = [o._data.size for o in outs]
    analytic = {i: np.zeros((xs[i]._data.size, sum(sizes))) for i in wrt}
    col = 0
    for o in outs:
        for j in range(o._data.size):
            seed = np.zeros(o._data.size)
            seed[j] = 1.0
            if o.requires_grad:
                grads = engine.run_backward(
                    [o], [seed.reshape(o.shape).astype(o.dtype)], retain_graph=True, capture=[xs[i] for i in wrt]
                )
                for i, g in zip(wrt, grads):
                    if g is not None:
                        analytic[i][:, col] = np.asarray(g, dtype=np.float64).ravel()
            col += 1

    with _function.no_grad():
        for i in wrt:
            data = xs[i]._data  # perturbed in place, element by element in row-major order (any memory layout)
            numeric = np.zeros_like(analytic[i])
            for k, index in enumerate(np.ndindex(data.shape)):
                orig = data[index]
                data[index] = orig + eps
                plus = np.concatenate([np.asarray(o._data, dtype=np.float64).ravel() for o in _outputs(fn, xs)])
                data[index] = orig - eps
                minus = np.concatenate([np.asarray(o._data, dtype=np.float64).ravel() for o in _outputs(fn, xs)])
                data[index] = orig
                numeric[k] = (plus - minus) / (2 * eps)
            a = analytic[i]
            bad = ~(np.abs(a - numeric) <= atol + rtol * np.abs(numeric))
            if bad.any():
                err = np.where(bad, np.abs(a - numeric), -1)
                k, j = np.unravel_index(np.argmax(err), err.shape)
                where_in = np.unravel_index(k, xs[i].shape) if xs[i].ndim else ()
                if not raise_exception:
                    return False
                raise GradientError(
                    f"gradcheck: gradient of input {i} disagrees with finite differences at input element "
                    f"{tuple(int(v) for v in where_in)} (output element {j}): "
                    f"analytical {a[k, j]:.8g}, numerical {numeric[k, j]:.8g}"
                )
    return True
