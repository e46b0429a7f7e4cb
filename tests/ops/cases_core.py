"""Op-table cases of the PyTorch meanings the core gives Tensor: ``max(dim)``'s values (the gradient goes to
the one index, not shared at ties as amax does), ``x[index] = v`` recorded as an op, in-place ops recorded
on a non-leaf, and ``F.pad`` in PyTorch's form (pairs from the last axis). Names start with ``core_``."""

import tolerance as T
import torch
import torch.nn.functional as TF
from op_cases import I, case, distinct, fixed, section

import chainrule as cr
import chainrule.functional as F

section(T.exact)  # selections
for dim in (0, 1, -1):
    for keep in (False, True):
        case(f"core_max_dim{dim}_{'keep' if keep else 'drop'}", lambda x, d=dim, k=keep: x.max(d, keepdim=k).values,
             lambda x, d=dim, k=keep: x.max(d, keepdim=k).values, inputs=[I(3, 4, domain=distinct)])
        case(f"core_min_dim{dim}_{'keep' if keep else 'drop'}", lambda x, d=dim, k=keep: cr.min(x, dim=d, keepdim=k)[0],
             lambda x, d=dim, k=keep: torch.min(x, dim=d, keepdim=k)[0], inputs=[I(3, 4, domain=distinct)])
# at a tie the whole gradient goes to the first index, as PyTorch's max(dim) (amax would share it)
case("core_max_dim_ties", lambda x: x.max(1).values, lambda x: x.max(1).values,
     inputs=[I(2, 3, domain=fixed([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]]))], gradcheck=False)
case("core_max_dim_0d", lambda x: x.max(0).values, lambda x: x.max(0).values, inputs=[I()])

section(T.linear)  # moves and writes
_ROWS = [0, 2]
case("core_setitem_rows", lambda x, v: _setitem(x, (_ROWS,), v), lambda x, v: _setitem(x, (_ROWS,), v),
     inputs=[I(3, 4), I(2, 4)])
case("core_setitem_broadcast", lambda x, v: _setitem(x, (slice(None), 1), v),
     lambda x, v: _setitem(x, (slice(None), 1), v), inputs=[I(3, 4), I(1)])
case("core_setitem_scalar", lambda x: _setitem(x, (1, 2), 5.0), lambda x: _setitem(x, (1, 2), 5.0), inputs=[I(3, 4)])


def _setitem(x, index, v):
    y = x * 1  # a non-leaf, so the assignment is recorded
    y[index] = v
    return y * 2


case("core_inplace_chain", lambda x, w: _inplace(x, w), lambda x, w: _inplace(x, w), inputs=[I(3, 4), I(4)])


def _inplace(x, w):
    y = x * 2  # saves x, not y: y may change in place (after an exp, which saves its output, it could not)
    y += 1
    y.mul_(w)  # its gradient for w needs y as it was: the op reads a copy
    y.sub_(w, alpha=0.5)
    y.div_(2.0)
    return y.exp_()  # last: exp saves its output


case("core_masked_fill_", lambda x: (x * 1).masked_fill_(x > 0, 0.5), lambda x: (x * 1).masked_fill_(x > 0, 0.5),
     inputs=[I(3, 4)])
case("core_copy_", lambda x, s: cr.zeros(3, 4, dtype=x.dtype).copy_(s) * x,
     lambda x, s: torch.zeros(3, 4, dtype=x.dtype).copy_(s) * x, inputs=[I(3, 4), I(4)])
for tag, pad in [("last", (1, 2)), ("last_two", (1, 0, 2, 3)), ("all_three", (0, 1, 1, 0, 2, 2))]:
    case(f"core_pad_torch_{tag}", lambda x, p=pad: F.pad(x, p, value=0.5), lambda x, p=pad: TF.pad(x, p, value=0.5),
         inputs=[I(2, 3, 4)])
