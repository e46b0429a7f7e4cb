"""The demonstration that ``./run`` shows: the chain rule by hand, then autograd training XOR."""

import math

import numpy as np

import chainrule as cr


def worked_example():
    """f(x, y, z) = (x + y) z at x = -2, y = 5, z = -4: f = -12, df/dx = df/dy = z = -4, df/dz = x + y = 3."""
    x = cr.tensor(-2.0, requires_grad=True)
    y = cr.tensor(5.0, requires_grad=True)
    z = cr.tensor(-4.0, requires_grad=True)
    q = x + y  # q = 3,   dq/dx = dq/dy = 1
    f = q * z  # f = -12, df/dq = z = -4, df/dz = q = 3
    f.backward()  # chain rule: df/dx = df/dq * dq/dx = -4
    return f.item(), x.grad.item(), y.grad.item(), z.grad.item()


def train_xor(seed=0, lr=2.0, hidden=4, max_epochs=20000, log=print):
    """A two-layer sigmoid network on XOR, with only Tensor ops; stops once all four points are right.

    Returns (epochs, final loss, predictions).
    """
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"--lr must be a positive number, got {lr}")
    if hidden < 1:
        raise ValueError(f"--hidden must be at least 1, got {hidden}")
    X = cr.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = cr.tensor([[0.0], [1.0], [1.0], [0.0]])
    rng = np.random.default_rng(seed)
    W1 = cr.tensor(rng.normal(0, 1, (2, hidden)), requires_grad=True)
    b1 = cr.zeros(hidden, requires_grad=True)
    W2 = cr.tensor(rng.normal(0, 1, (hidden, 1)), requires_grad=True)
    b2 = cr.zeros(1, requires_grad=True)
    params = [W1, b1, W2, b2]
    for epoch in range(1, max_epochs + 1):
        h = (X @ W1 + b1).sigmoid()  # hidden layer: weighted sums plus bias, then the activation
        p = (h @ W2 + b2).sigmoid()  # output layer: the probability of class 1
        # binary cross-entropy, with p kept away from 0 and 1 so the log stays finite
        pc = p.clip(1e-7, 1 - 1e-7)
        loss = -(y * pc.log() + (1 - y) * (1 - pc).log()).mean()
        for w in params:
            w.grad = None
        loss.backward()
        with cr.no_grad():
            for w in params:
                w -= lr * w.grad  # gradient descent, in place
        pred = p > 0.5
        solved = bool((pred == (y > 0.5)).all())
        if epoch == 1 or epoch % 20 == 0 or solved:
            log(f"  epoch {epoch:5d}  loss {loss.item():.4f}")
        if solved:
            return epoch, loss.item(), p.numpy().ravel()
    return max_epochs, loss.item(), p.numpy().ravel()


def run_demo(seed=0, lr=2.0, hidden=4):
    f, dx, dy, dz = worked_example()
    print("The chain rule on f(x, y, z) = (x + y) * z at x = -2, y = 5, z = -4")
    print(f"  f = {f:g}")
    print(f"  df/dx = {dx:g}   df/dy = {dy:g}   df/dz = {dz:g}")
    print()
    print(f"A two-layer sigmoid network (2-{hidden}-1) learning XOR by gradient descent (lr {lr:g})")
    epochs, loss, p = train_xor(seed=seed, lr=lr, hidden=hidden)
    ok = bool(((p > 0.5) == np.array([False, True, True, False])).all())
    print()
    for (a, b), prob in zip([(0, 0), (0, 1), (1, 0), (1, 1)], p):
        print(f"  XOR({a}, {b}) = {a ^ b}   network says {prob:.3f} -> {int(prob > 0.5)}")
    if ok:
        print(f"All four points classified after {epochs} epochs (loss {loss:.4f}).")
        return 0
    print(f"Not solved within {epochs} epochs (loss {loss:.4f}); try another --seed or --lr.")
    return 1
