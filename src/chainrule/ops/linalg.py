"""Matrix products."""

from ..autograd.function import Primitive
from ..errors import ShapeError


class MatMul(Primitive):
    """``a @ b`` for 1-D, 2-D and batched operands, with broadcast batch dimensions (as np.matmul)."""

    broadcasts = True  # batch dimensions broadcast; the engine sums them back
    deeplift = "product"

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ShapeError(f"matmul: both operands need at least one dimension, got {a.shape} and {b.shape}")
        k1 = a.shape[-1]
        k2 = b.shape[-2] if b.ndim > 1 else b.shape[0]
        if k1 != k2:
            raise ShapeError(
                f"matmul: cannot multiply {a.shape} by {b.shape}: inner dimensions {k1} and {k2} differ"
            )
        self.saved = (a, b)
        try:
            return a @ b
        except ValueError:
            raise ShapeError(
                f"matmul: cannot broadcast the batch dimensions of {a.shape} and {b.shape}"
            ) from None

    def backward(self, g):
        a, b = self.saved
        n = self.needs_input_grad
        if a.ndim == 2 and b.ndim == 2:
            return (g @ b.T if n[0] else None), (a.T @ g if n[1] else None)
        if a.ndim == 1 and b.ndim == 1:  # dot product
            return (g * b if n[0] else None), (g * a if n[1] else None)
        # promote 1-D operands to matrices, as matmul does, then undo it on the gradients
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        if a.ndim == 1:
            g = g[..., None, :]
        if b.ndim == 1:
            g = g[..., None]
        ga = gb = None
        if n[0]:
            ga = g @ b2.swapaxes(-1, -2)
            if a.ndim == 1:
                ga = ga.reshape(ga.shape[:-2] + ga.shape[-1:])
        if n[1]:
            gb = a2.swapaxes(-1, -2) @ g
            if b.ndim == 1:
                gb = gb[..., 0]
        return ga, gb
