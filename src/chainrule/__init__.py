"""chainrule: a small deep-learning library on NumPy, with reverse-mode automatic differentiation.

    >>> import chainrule as cr
    >>> x = cr.tensor(-2.0, requires_grad=True)
    >>> y = cr.tensor(5.0, requires_grad=True)
    >>> z = cr.tensor(-4.0, requires_grad=True)
    >>> f = (x + y) * z
    >>> f.backward()
    >>> x.grad.item(), y.grad.item(), z.grad.item()
    (-4.0, -4.0, 3.0)
"""

from . import autograd, data, errors, functional, io, metrics, nn, optim, registry, train
from .autograd import enable_grad, grad, is_grad_enabled, no_grad, set_grad_enabled
from .backend import get_num_threads, set_num_threads
from .creation import (
    arange,
    default_generator,
    eye,
    full,
    manual_seed,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    tensor,
    zeros,
    zeros_like,
)
from .functional import (
    abs,
    argmax,
    argmin,
    broadcast_to,
    cat,
    clamp,
    clip,
    concatenate,
    exp,
    expand,
    flatten,
    gelu,
    leaky_relu,
    log,
    log_softmax,
    logsumexp,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    pad,
    permute,
    relu,
    reshape,
    sigmoid,
    softmax,
    softplus,
    split,
    sqrt,
    squeeze,
    stack,
    std,
    step,
    sum,
    swapaxes,
    tanh,
    transpose,
    unsqueeze,
    var,
    where,
)
from .io import load, load_state, save, save_state
from .tensor import (
    Tensor,
    bool_,
    float16,
    float32,
    float64,
    int8,
    int16,
    int32,
    int64,
    uint8,
)

__version__ = "0.1.0"

# The Tensor methods that are composites live in chainrule.functional, above tensor.py; they are
# attached here, the one place that sees both, so that tensor.py imports nothing above it.
COMPOSITE_METHODS = ("var", "std", "argmax", "argmin", "flatten", "swapaxes", "squeeze", "unsqueeze", "expand", "split")
for _name in COMPOSITE_METHODS:
    setattr(Tensor, _name, getattr(functional, _name))
del _name
