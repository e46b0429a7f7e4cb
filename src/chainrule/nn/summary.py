"""``summary(model, input_shape)``: each layer's output shape and parameter count, with the totals."""

import numpy as np

from ..autograd.function import no_grad
from ..tensor import Tensor


def summary(model, input_shape, dtype=np.float32, print_fn=print):
    """Run ``model`` on zeros of ``input_shape`` (batch axis included) and print a table of its layers.

    Returns the table as a string.
    """
    rows = []
    patched = []
    for name, m in model.named_modules():
        if m is model and list(m.children()):
            continue
        if list(m.children()):
            continue

        def make(m=m, name=name):
            orig = m.forward

            def forward(*args, **kwargs):
                out = orig(*args, **kwargs)
                shape = tuple(out.shape) if isinstance(out, Tensor) else "?"
                n = sum(p.numel() for p in m.parameters())
                rows.append((name or type(m).__name__, type(m).__name__, shape, n))
                return out

            return forward

        m.__dict__["forward"] = make()
        patched.append(m)
    try:
        with no_grad():
            model(Tensor._wrap(np.zeros(input_shape, dtype=dtype)))
    finally:
        for m in patched:
            del m.__dict__["forward"]
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    w = max([len("Layer")] + [len(f"{r[0]} ({r[1]})") for r in rows])
    lines = [f"{'Layer':<{w}}  {'Output shape':<20}  {'Params':>10}", "-" * (w + 34)]
    for name, kind, shape, n in rows:
        lines.append(f"{name + ' (' + kind + ')':<{w}}  {str(shape):<20}  {n:>10,}")
    lines += ["-" * (w + 34), f"Total params: {total:,}", f"Trainable params: {trainable:,}"]
    text = "\n".join(lines)
    if print_fn is not None:
        print_fn(text)
    return text
