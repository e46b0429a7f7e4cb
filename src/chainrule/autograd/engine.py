"""Reverse-mode automatic differentiation: the chain rule over the recorded graph.

The graph's nodes are ``Primitive`` instances; each knows its parents (the node
that made each input, the leaf Tensor itself, or None for inputs that need no
gradient) and its sequence number (nodes are numbered as they are made, so a
node's number is larger than its parents'). ``run_backward`` walks the nodes that
lead to the roots from the newest to the oldest with a heap (a loop, not recursion,
so graphs of any depth work), handing each node the sum of the gradients of its
output and passing what its ``backward`` returns on to its parents.
"""

import weakref
from heapq import heappop, heappush, heapreplace

import numpy as np

from ..backend import memory_order
from ..errors import BackwardError, ShapeError
from . import function as _function

_ndarray = np.ndarray


def unbroadcast(grad, shape):
    """Sum ``grad`` over the axes that broadcasting added or stretched, to get ``shape``."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    if lead < 0:
        raise ShapeError(f"cannot reduce a gradient of shape {grad.shape} to shape {shape}")
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1
    )
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    if lead:
        grad = grad.reshape(grad.shape[lead:])
    if grad.shape != shape:
        raise ShapeError(f"cannot reduce a gradient of shape {grad.shape} to shape {shape}")
    return grad


_retained = weakref.WeakKeyDictionary()  # node -> a weak reference to the non-leaf tensor that retains its grad


def retain_grad(t):
    """Make ``backward`` fill ``.grad`` of the non-leaf tensor ``t`` too (``Tensor.retain_grad``)."""
    _retained[t._ctx] = weakref.ref(t)


def _fill_retained(node, g, ref):
    Tensor = _function._Tensor
    t = ref()
    if t is None or t._ctx is not node:
        return
    if t._grad is None:
        t._grad = Tensor._wrap(g.astype(t._data.dtype, copy=True))
    else:
        t._grad._data += g


def _fit(node, grad, shape):
    """Check a gradient's shape against its input's; ops that broadcast get it summed back."""
    if not node.broadcasts:
        raise ShapeError(
            f"{type(node).__name__}.backward returned a gradient of shape {grad.shape} for an input of shape {shape}"
        )
    return unbroadcast(grad, shape)


def run_backward(roots, root_grads, retain_graph=False, capture=None):
    """Backpropagate ``root_grads`` from the tensors ``roots``.

    Without ``capture``, gradients are accumulated into ``.grad`` of every leaf that
    requires one. With ``capture`` (a list of tensors), nothing is written to
    ``.grad``; the gradient of each captured tensor is returned instead (None where
    it was not reached).
    """
    Tensor = _function._Tensor
    grads = {}  # node or leaf -> the gradient of its output, summed over its consumers so far
    heap = []  # nodes waiting for backward, newest first (heapq is a min-heap: keys are -seq)
    if len(roots) == 1 and roots[0]._ctx is not None:  # the usual loss.backward(): its node goes first
        node, g = roots[0]._ctx, root_grads[0]
    else:
        for r, g in zip(roots, root_grads):
            key = r if r._ctx is None else r._ctx
            if key in grads:
                grads[key] = grads[key] + g
            else:
                grads[key] = g
                if r._ctx is not None:
                    heappush(heap, (-key.seq, key))
        node = heappop(heap)[1] if heap else None
        g = grads.pop(node) if node is not None else None
    free = not retain_graph
    anomaly = _function._anomaly
    # the leaf gradients this function made as sums, by leaf: the array itself is kept, not its id
    # (an id is reused once its array is freed, and then would name an array owned by someone else)
    sums = {}
    captured = {}
    if capture is not None:
        captured = {t._ctx: None for t in capture if t._ctx is not None}
    retained = _retained if capture is None and len(_retained) else None

    # A node is made after all of its inputs, so handling nodes from the newest to the oldest
    # handles each one after every node that used its output: its gradient is then complete.
    while node is not None:
        if captured and node in captured:
            captured[node] = g
        if retained is not None and node in retained:
            _fill_retained(node, g, retained[node])
        saved = node.saved
        if saved is None:
            raise BackwardError(
                f"{type(node).__name__}: trying to backward through the graph a second time; its saved "
                "values were freed after the first backward. Pass retain_graph=True to the first "
                "backward() if you need to backpropagate through it again."
            )
        if saved and node.versions != _function._epoch:  # something was written in place since it was made
            _function.check_versions(node)
        in_grads = node.backward(g)
        if saved and free:
            node.saved = None
        if in_grads.__class__ is not tuple:
            in_grads = (in_grads,)
        if anomaly is not None:
            anomaly.check_backward(node, g, in_grads)
        # in a chain the next node is this one's only new parent: it skips the heap and the dict
        nxt = nxt_g = None
        for p, ig in zip(node.parents, in_grads):
            if p is None or ig is None:
                continue
            if isinstance(p, Tensor):  # a leaf: its gradient is summed here and delivered at the end
                if ig.shape != p._data.shape:
                    ig = _fit(node, ig, p._data.shape)
                prev = grads.get(p)
                if prev is None:
                    grads[p] = ig
                elif sums.get(p) is prev and prev.__class__ is _ndarray and prev.dtype == ig.dtype:
                    prev += ig  # a sum made here, owned by no one else: added to in place
                else:
                    grads[p] = sums[p] = prev + ig
                continue
            if ig.shape != p.out_shape:
                ig = _fit(node, ig, p.out_shape)
            if p is nxt:
                nxt_g = nxt_g + ig
            elif p in grads:
                grads[p] = grads[p] + ig
            elif nxt is None:
                nxt, nxt_g = p, ig
            else:
                grads[p] = ig
                heappush(heap, (-p.seq, p))
        if nxt is not None and heap and heap[0][0] < -nxt.seq:  # a newer node waits: it goes first
            grads[nxt] = nxt_g
            nxt = heapreplace(heap, (-nxt.seq, nxt))[1]
            nxt_g = grads.pop(nxt)
        elif nxt is None and heap:
            nxt = heappop(heap)[1]
            nxt_g = grads.pop(nxt)
        node, g = nxt, nxt_g

    # Only leaves are left in ``grads``: their gradients are complete.
    if capture is not None:
        return [grads.get(t) if t._ctx is None else captured.get(t._ctx) for t in capture]
    owned = {}  # id -> array: the arrays handed to leaves as .grad so far (kept, so no id is reused)
    for leaf, g in grads.items():
        if not leaf._requires_grad:
            continue
        if isinstance(g, np.generic):
            g = np.asarray(g)
        if g.dtype != leaf._data.dtype:  # mixed-dtype graphs: the gradient has its leaf's dtype
            g = g.astype(leaf._data.dtype)
        # .grad must own its memory: a pass-through gradient may be shared by several leaves or be a view
        # (the copy is in the leaf's memory order, so that an optimiser's update runs over both alike)
        if g.base is not None or id(g) in owned:
            g = g.copy(order=memory_order(leaf._data))
        if leaf._grad is None:
            owned[id(g)] = g
            leaf._grad = Tensor._wrap(g)
        else:
            leaf._grad._data += g
    return None


def grad(outputs, inputs, grad_outputs=None, retain_graph=False, allow_unused=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned without touching any ``.grad``.

    ``outputs`` and ``inputs`` are Tensors or sequences of them; ``grad_outputs`` gives
    d(loss)/d(output) for each output (may be omitted for one-element outputs). Returns a
    tuple of Tensors, one per input; an input that the outputs do not depend on raises an
    error unless ``allow_unused=True``, which gives None for it.
    """
    Tensor = _function._Tensor
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor | np.ndarray):
        grad_outputs = [grad_outputs]
    seeds = []
    for o, go in zip(outputs, grad_outputs):
        if not o.requires_grad:
            raise BackwardError("grad: an output does not require grad and has no grad_fn")
        if go is None:
            if o._data.size != 1:
                raise BackwardError(
                    f"grad: grad can be implicitly created only for scalar outputs, got shape {o.shape}; "
                    "pass grad_outputs"
                )
            seeds.append(np.ones(o.shape, dtype=o.dtype))
        else:
            g = np.array(go._data if isinstance(go, Tensor) else go, dtype=o.dtype)
            if g.shape != o.shape:
                raise ShapeError(f"grad: grad_output has shape {g.shape} but its output has shape {o.shape}")
            seeds.append(g)
    for t in inputs:
        if not t.requires_grad:
            raise BackwardError("grad: an input does not require grad, so it has no gradient")
    found = run_backward(outputs, seeds, retain_graph=retain_graph, capture=inputs)
    result = []
    for t, g in zip(inputs, found):
        if g is None:
            if not allow_unused:
                raise BackwardError(
                    "grad: one of the inputs was not used to compute the outputs; pass allow_unused=True "
                    "to get None for it"
                )
            result.append(None)
        else:
            result.append(Tensor._wrap(np.array(g, dtype=t.dtype)))
    return tuple(result)
