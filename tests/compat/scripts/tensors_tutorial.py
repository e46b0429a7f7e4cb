"""The "Tensors" tutorial: creation, attributes, indexing, joining, arithmetic, in-place ops and
the NumPy bridge; then a least-squares fit whose gradient is written with those tensor ops alone.
"""

import numpy as np
import torch

torch.manual_seed(0)

# Initializing a Tensor
data = [[1, 2], [3, 4]]
x_data = torch.tensor(data)
assert x_data.dtype == torch.int64

np_array = np.array(data)
x_np = torch.from_numpy(np_array)
assert torch.equal(x_np, x_data)

x_ones = torch.ones_like(x_data)  # retains the properties of x_data
print(f"Ones Tensor: \n {x_ones} \n")
assert x_ones.dtype == torch.int64 and x_ones.shape == (2, 2)

x_rand = torch.rand_like(x_data, dtype=torch.float)  # overrides the datatype of x_data
print(f"Random Tensor: \n {x_rand} \n")
assert x_rand.dtype == torch.float32 and bool(((x_rand >= 0) & (x_rand < 1)).all())

shape = (2, 3,)
rand_tensor = torch.rand(shape)
ones_tensor = torch.ones(shape)
zeros_tensor = torch.zeros(shape)

print(f"Random Tensor: \n {rand_tensor} \n")
print(f"Ones Tensor: \n {ones_tensor} \n")
print(f"Zeros Tensor: \n {zeros_tensor}")
assert rand_tensor.shape == torch.Size([2, 3]) == ones_tensor.shape == zeros_tensor.shape

# Attributes of a Tensor
tensor = torch.rand(3, 4)

print(f"Shape of tensor: {tensor.shape}")
print(f"Datatype of tensor: {tensor.dtype}")
print(f"Device tensor is stored on: {tensor.device}")
assert tensor.shape == (3, 4) and tensor.dtype == torch.float32 and tensor.device.type == "cpu"

# Operations on Tensors
if torch.accelerator.is_available():
    tensor = tensor.to(torch.accelerator.current_accelerator())

tensor = torch.ones(4, 4)
print(f"First row: {tensor[0]}")
print(f"First column: {tensor[:, 0]}")
print(f"Last column: {tensor[..., -1]}")
tensor[:, 1] = 0
print(tensor)
assert tensor.sum().item() == 12 and (tensor[:, 1] == 0).all()

t1 = torch.cat([tensor, tensor, tensor], dim=1)
print(t1)
assert t1.shape == (4, 12) and torch.equal(t1[:, 4:8], tensor)

# This computes the matrix multiplication between two tensors. y1, y2 will have the same value
y1 = tensor @ tensor.T
y2 = tensor.matmul(tensor.T)
y3 = torch.matmul(tensor, tensor.T)
assert torch.equal(y1, y2) and torch.equal(y1, y3)
assert torch.equal(y1, torch.full((4, 4), 3.0))

# This computes the element-wise product. z1, z2, z3 will have the same value
z1 = tensor * tensor
z2 = tensor.mul(tensor)
z3 = torch.mul(tensor, tensor)
assert torch.equal(z1, z2) and torch.equal(z1, z3) and torch.equal(z1, tensor)

agg = tensor.sum()
agg_item = agg.item()
print(agg_item, type(agg_item))
assert isinstance(agg_item, float) and agg_item == 12.0

print(f"{tensor} \n")
tensor.add_(5)
print(tensor)
assert torch.equal(tensor[:, 1], torch.full((4,), 5.0)) and tensor[0, 0].item() == 6.0

# Bridge with NumPy: a CPU tensor and its NumPy array share their memory
t = torch.ones(5)
print(f"t: {t}")
n = t.numpy()
print(f"n: {n}")

t.add_(1)
print(f"t: {t}")
print(f"n: {n}")
assert n.tolist() == [2.0] * 5

n = np.ones(5)
t = torch.from_numpy(n)
np.add(n, 1, out=n)
print(f"t: {t}")
print(f"n: {n}")
assert t.dtype == torch.float64 and t.tolist() == [2.0] * 5

# Least squares by gradient descent, the gradient 2/N X^T (X w - y) written out
X = torch.rand(200, 3)
X = torch.cat([X, torch.ones(200, 1)], dim=1)
true_w = torch.tensor([[2.0], [-3.0], [1.0], [0.5]])
y = X @ true_w + 0.1 * torch.randn(200, 1)
w = torch.zeros(4, 1)
lr = 0.5
for step in range(500):
    residual = X @ w - y
    loss = residual.mul(residual).mean()
    if step == 0:
        print("first_loss", loss.item())
    grad = X.T.matmul(residual) * (2 / X.shape[0])
    w.sub_(lr * grad)
    if step % 100 == 99:
        print(f"step {step + 1}: loss {loss.item():.5f}")

residual = X @ w - y
print(w.T)
print("final_loss", residual.mul(residual).mean().item())
