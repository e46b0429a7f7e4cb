"""The autograd tutorials ("A Gentle Introduction to torch.autograd", "Automatic Differentiation
with torch.autograd" and the older blitz): grad_fn, backward with a vector, retain_graph,
requires_grad_, detach, no_grad, vector-Jacobian products and torch.autograd.grad, then a
logistic regression trained with torch.autograd.grad and a hand-written update.
"""

import torch

torch.manual_seed(0)

# --- Automatic differentiation with torch.autograd: the one-layer network
x = torch.ones(5)  # input tensor
y = torch.zeros(3)  # expected output
w = torch.randn(5, 3, requires_grad=True)
b = torch.randn(3, requires_grad=True)
z = torch.matmul(x, w)+b
loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)

print(f"Gradient function for z = {z.grad_fn}")
print(f"Gradient function for loss = {loss.grad_fn}")
assert z.grad_fn is not None and loss.grad_fn is not None

loss.backward()
print(w.grad)
print(b.grad)
# d loss / d z_j = sigmoid(z_j) / 3, and z = x @ w + b with x all ones
expected_b = torch.sigmoid(z.detach()) / 3
assert torch.allclose(b.grad, expected_b, atol=1e-6)
assert torch.allclose(w.grad, expected_b.expand(5, 3), atol=1e-6)

# Disabling gradient tracking
z = torch.matmul(x, w)+b
print(z.requires_grad)
assert z.requires_grad

with torch.no_grad():
    z = torch.matmul(x, w)+b
print(z.requires_grad)
assert not z.requires_grad

z = torch.matmul(x, w)+b
z_det = z.detach()
print(z_det.requires_grad)
assert not z_det.requires_grad and z_det.grad_fn is None

# Tensor gradients and Jacobian products
inp = torch.eye(4, 5, requires_grad=True)
out = (inp+1).pow(2).t()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"First call\n{inp.grad}")
first_call = inp.grad.clone()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"\nSecond call\n{inp.grad}")
assert torch.allclose(inp.grad, 2 * first_call)
inp.grad.zero_()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"\nCall after zeroing gradients\n{inp.grad}")
assert torch.allclose(inp.grad, first_call)
assert torch.allclose(first_call, 2 * (torch.eye(4, 5) + 1))

# --- The blitz: y = x + 2, z = y * y * 3, out = z.mean()
x = torch.ones(2, 2, requires_grad=True)
print(x)
y = x + 2
print(y)
print(y.grad_fn)
z = y * y * 3
out = z.mean()
print(z, out)

a = torch.randn(2, 2)
a = ((a * 3) / (a - 1))
print(a.requires_grad)
a.requires_grad_(True)
print(a.requires_grad)
b = (a * a).sum()
print(b.grad_fn)
assert a.requires_grad and b.grad_fn is not None

out.backward()
print(x.grad)
assert torch.allclose(x.grad, torch.full((2, 2), 4.5))

# A vector-Jacobian product: y is not a scalar, so backward takes the vector v
x = torch.randn(3, requires_grad=True)
y = x * 2
while y.data.norm() < 1000:
    y = y * 2
print(y)
v = torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float)
y.backward(v)
print(x.grad)
scale = (y / x).detach()  # y = 2**k * x
assert torch.allclose(x.grad, scale * v, rtol=1e-5)

print(x.requires_grad)
print((x ** 2).requires_grad)
with torch.no_grad():
    print((x ** 2).requires_grad)
    assert not (x ** 2).requires_grad

print(x.requires_grad)
y = x.detach()
print(y.requires_grad)
print(x.eq(y).all())

# --- A Gentle Introduction: Q = 3a^3 - b^2
a = torch.tensor([2., 3.], requires_grad=True)
b = torch.tensor([6., 4.], requires_grad=True)
Q = 3*a**3 - b**2
external_grad = torch.tensor([1., 1.])
Q.backward(gradient=external_grad)
print(9*a**2 == a.grad)
print(-2*b == b.grad)
assert (9*a**2 == a.grad).all() and (-2*b == b.grad).all()

# torch.autograd.grad: the same vector-Jacobian product without touching .grad
a = torch.tensor([2., 3.], requires_grad=True)
Q = 3*a**3
dQ_da, = torch.autograd.grad(Q, a, grad_outputs=torch.ones_like(Q))
print(dQ_da)
assert a.grad is None and torch.allclose(dQ_da, 9*a.detach()**2)

# The full Jacobian of a map R^3 -> R^2, one row per call, and J^T v against one call
x = torch.randn(3, requires_grad=True)
f = torch.stack([x[0] * x[1], x[1].sin() + x[2] ** 2])
rows = [torch.autograd.grad(f[i], x, retain_graph=True)[0] for i in range(2)]
J = torch.stack(rows)
v = torch.tensor([0.5, -2.0])
vjp, = torch.autograd.grad(f, x, grad_outputs=v)
print(J)
print(vjp)
assert torch.allclose(vjp, v @ J, atol=1e-6)

# --- Logistic regression by hand, the gradients from torch.autograd.grad
true_w = torch.tensor([1.5, -2.0, 0.5, 1.0, -1.0])
X = torch.randn(256, 5)
labels = (X @ true_w + 0.3 * torch.randn(256) > 0).float()
w = torch.zeros(5, requires_grad=True)
b = torch.zeros(1, requires_grad=True)
lr = 0.5
for step in range(200):
    logits = X @ w + b
    loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels)
    if step == 0:
        print("first_loss", loss.item())
    grad_w, grad_b = torch.autograd.grad(loss, (w, b))
    with torch.no_grad():
        w -= lr * grad_w
        b -= lr * grad_b
    if step % 50 == 49:
        print(f"step {step + 1}: loss {loss.item():.4f}")

with torch.no_grad():
    final = torch.nn.functional.binary_cross_entropy_with_logits(X @ w + b, labels)
print("final_loss", final.item())
