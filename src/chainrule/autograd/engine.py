"""Reverse-mode automatic differentiation: the chain rule over the recorded graph.

The graph's nodes are ``Function`` instances; each knows its parents (the node
that made each input, the leaf Tensor itself, or None for inputs that need no
gradient). ``run_backward`` orders the nodes that lead to the roots with an
iterative depth-first search (no recursion limit), then walks them from the
roots down, handing each node the sum of the gradients of its output and
passing what its ``backward`` returns on to its parents.
"""

import numpy as np

from ..errors import BackwardError, ShapeError
from . import function as _function


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


def _topological_order(roots):
    """Nodes reachable from ``roots``, each after every node that consumes its output."""
    Tensor = _function._Tensor
    order = []
    visited = set()
    stack = [(r, False) for r in roots]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))
        for p in node.parents:
            if p is not None and not isinstance(p, Tensor) and p not in visited:
                stack.append((p, False))
    order.reverse()
    return order


def run_backward(roots, root_grads, retain_graph=False, capture=None):
    """Backpropagate ``root_grads`` from the tensors ``roots``.

    Without ``capture``, gradients are accumulated into ``.grad`` of every leaf that
    requires one. With ``capture`` (a list of tensors), nothing is written to
    ``.grad``; the gradient of each captured tensor is returned instead (None where
    it was not reached).
    """
    Tensor = _function._Tensor
    grads = {}
    leaf_grads = {}  # only used with capture: id(leaf) -> gradient
    start = []
    for r, g in zip(roots, root_grads):
        node = r._ctx
        if node is None:  # a leaf as root: its gradient is the seed itself
            _deliver_leaf(r, g, None, capture, leaf_grads)
            continue
        grads[node] = grads[node] + g if node in grads else g
        start.append(node)
    want_nodes = {}
    if capture is not None:
        want_nodes = {t._ctx: None for t in capture if t._ctx is not None}

    for node in _topological_order(start):
        g = grads.pop(node, None)
        if g is None:
            continue
        if node in want_nodes:
            want_nodes[node] = g
        if node.saved is None:
            raise BackwardError(
                f"{type(node).__name__}: trying to backward through the graph a second time; its saved "
                "values were freed after the first backward. Pass retain_graph=True to the first "
                "backward() if you need to backpropagate through it again."
            )
        in_grads = node.backward(g)
        if not retain_graph and node.saved:
            node.saved = None
        if type(in_grads) is not tuple:
            in_grads = (in_grads,)
        for p, ig in zip(node.parents, in_grads):
            if p is None or ig is None:
                continue
            leaf = isinstance(p, Tensor)
            shape, dtype = (p.data.shape, p.data.dtype) if leaf else (p.out_shape, p.out_dtype)
            if ig.shape != shape:
                if not node.broadcasts:
                    raise ShapeError(
                        f"{type(node).__name__}.backward returned a gradient of shape {ig.shape} "
                        f"for an input of shape {shape}"
                    )
                ig = unbroadcast(ig, shape)
            if ig.dtype is not dtype and ig.dtype != dtype:
                ig = ig.astype(dtype)
            if leaf:
                _deliver_leaf(p, ig, g, capture, leaf_grads)
            elif p in grads:
                grads[p] = grads[p] + ig
            else:
                grads[p] = ig

    if capture is None:
        return None
    return [leaf_grads.get(id(t)) if t._ctx is None else want_nodes.get(t._ctx) for t in capture]


def _deliver_leaf(leaf, g, upstream, capture, leaf_grads):
    """Accumulate gradient ``g`` into a leaf (or into ``leaf_grads`` when capturing)."""
    if capture is not None:
        k = id(leaf)
        leaf_grads[k] = leaf_grads[k] + g if k in leaf_grads else g
        return
    if not leaf._requires_grad:
        return
    if isinstance(g, np.generic):
        g = np.asarray(g)
    if leaf.grad is None:
        # .grad must own its memory: a pass-through gradient or a view may be shared with another input
        if g is upstream or g.base is not None:
            g = g.copy()
        leaf.grad = _function._Tensor._wrap(g)
    else:
        leaf.grad.data += g


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
            if o.data.size != 1:
                raise BackwardError(
                    f"grad: grad can be implicitly created only for scalar outputs, got shape {o.shape}; "
                    "pass grad_outputs"
                )
            seeds.append(np.ones(o.shape, dtype=o.dtype))
        else:
            g = np.array(go.data if isinstance(go, Tensor) else go, dtype=o.dtype)
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
