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

from . import (
    accelerator,
    autograd,
    backends,
    cuda,
    data,
    errors,
    explain,
    functional,
    io,
    metrics,
    nn,
    optim,
    registry,
    return_types,
    train,
    utils,
)
from .autograd import enable_grad, grad, is_grad_enabled, no_grad, set_grad_enabled
from .autograd import no_grad as inference_mode
from .backend import get_num_threads, set_num_threads
from .creation import (
    BoolTensor,
    ByteTensor,
    DoubleTensor,
    FloatTensor,
    Generator,
    HalfTensor,
    IntTensor,
    LongTensor,
    arange,
    as_tensor,
    default_generator,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    logspace,
    manual_seed,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from .device import device, get_default_device, set_default_device
from .functional import (
    abs,
    add,
    amax,
    amin,
    argmax,
    argmin,
    broadcast_to,
    cat,
    clamp,
    clip,
    concatenate,
    div,
    divide,
    exp,
    expand,
    flatten,
    gelu,
    is_tensor,
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
    mul,
    multiply,
    neg,
    negative,
    numel,
    pad,
    permute,
    pow,
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
    sub,
    subtract,
    sum,
    swapaxes,
    tanh,
    transpose,
    true_divide,
    unbind,
    unsqueeze,
    var,
    where,
)
from .io import load, load_state, save, save_state
from .tensor import (
    DTYPE_ALIASES,
    Size,
    Tensor,
    bool_,
    float16,
    float32,
    float64,
    int8,
    int16,
    int32,
    int64,
    set_printoptions,
    uint8,
)

__version__ = "0.2.0"

# PyTorch's short dtype names: cr.float, cr.double, cr.half, cr.long, cr.int, cr.short, cr.bool
globals().update(DTYPE_ALIASES)


def get_default_dtype():
    """The dtype of new floating-point tensors: float32."""
    from .tensor import default_float

    return default_float

# The Tensor methods that are composites live in chainrule.functional, above tensor.py; they are
# attached here, the one place that sees both, so that tensor.py imports nothing above it.
COMPOSITE_METHODS = ("var", "std", "flatten", "swapaxes", "squeeze", "unsqueeze", "expand", "split", "unbind")
COMPOSITE_METHODS += tuple(n for n in functional.math.TENSOR_METHODS if n not in vars(Tensor))
for _name in COMPOSITE_METHODS:
    setattr(Tensor, _name, getattr(functional, _name))


def _in_place(name):
    def method(self, *args, **kwargs):
        return self._update(f"{name}_", lambda s: getattr(s, name)(*args, **kwargs), *args, *kwargs.values())

    method.__name__ = method.__qualname__ = f"{name}_"
    method.__doc__ = f"``x.{name}(...)`` written into ``x``, in place (recorded for backward where it needs to be)."
    return method


# the methods whose full form lives above tensor.py: division with rounding_mode= and //
Tensor.div = Tensor.divide = Tensor.true_divide = functional.math.div
Tensor.__floordiv__ = functional.math.floor_divide
Tensor.__rfloordiv__ = lambda self, other: functional.math.floor_divide(other, self)

for _name in functional.more.TENSOR_METHODS:
    if _name not in vars(Tensor):
        setattr(Tensor, _name, getattr(functional.more, _name))
for _name in functional.more.TENSOR_PROPERTIES:
    setattr(Tensor, _name, property(getattr(functional.more, _name)))
for _name in functional.math.IN_PLACE + functional.more.IN_PLACE:
    if f"{_name}_" not in vars(Tensor):
        setattr(Tensor, f"{_name}_", _in_place(_name))
del _name

# the math functions at the top level too (cr.sin, cr.eq, cr.mm, ...), as torch has them; imported last, since
# some of them (all, any, round) shadow Python's own names in this module
import numpy as _np  # noqa: E402

from . import graph  # noqa: E402
from .functional.math import *  # noqa: E402, F403
from .functional.math import norm  # noqa: E402  (functional.norm is also a submodule's name)
from .functional.more import *  # noqa: E402, F403
from .io import onnx  # noqa: E402


def trace(input, example_inputs=None):  # noqa: F811  (one name for torch.trace and for graph capture)
    """``trace(matrix)``: the sum of a 2-D tensor's diagonal (``torch.trace``). ``trace(model, example_inputs)``:
    the model's forward recorded as a ``Graph`` (``chainrule.graph.trace``), what ONNX export reads."""
    if example_inputs is None and isinstance(input, Tensor | _np.ndarray):
        return functional.math.trace(input)
    if example_inputs is None:
        raise errors.ArgumentError("trace(model, example_inputs): give example inputs (a batch) to trace the model on")
    return graph.trace(input, example_inputs)
