"""The "Neural Networks" tutorial: LeNet on random 1x32x32 input, backward with a random gradient,
the graph walked through grad_fn.next_functions, a hand-written SGD update on f.data, then
torch.optim.SGD fitting a small fixed batch.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

torch.manual_seed(0)


class Net(nn.Module):

    def __init__(self):
        super().__init__()
        # 1 input image channel, 6 output channels, 5x5 square convolution kernel
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        # an affine operation: y = Wx + b
        self.fc1 = nn.Linear(16 * 5 * 5, 120)  # 5*5 from image dimension
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        # Max pooling over a (2, 2) window
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        # If the size is a square, you can specify with a single number
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)  # flatten all dimensions except the batch dimension
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


net = Net()
print(net)

params = list(net.parameters())
print(len(params))
print(params[0].size())  # conv1's .weight
assert len(params) == 10 and params[0].size() == torch.Size([6, 1, 5, 5])
assert [name for name, _ in net.named_parameters()][:2] == ["conv1.weight", "conv1.bias"]

input = torch.randn(1, 1, 32, 32)
out = net(input)
print(out)
assert out.shape == (1, 10)

net.zero_grad()
out.backward(torch.randn(1, 10))
assert all(p.grad is not None and p.grad.shape == p.shape for p in net.parameters())

# Loss Function
output = net(input)
target = torch.randn(10)  # a dummy target, for example
target = target.view(1, -1)  # make it the same shape as output
criterion = nn.MSELoss()

loss = criterion(output, target)
print(loss)

print(loss.grad_fn)  # MSELoss
print(loss.grad_fn.next_functions[0][0])  # Linear
print(loss.grad_fn.next_functions[0][0].next_functions[0][0])  # ReLU
assert loss.grad_fn.next_functions[0][0] is not None

# Backprop
net.zero_grad()  # zeroes the gradient buffers of all parameters

print('conv1.bias.grad before backward')
print(net.conv1.bias.grad)
assert net.conv1.bias.grad is None or not net.conv1.bias.grad.any()

loss.backward()

print('conv1.bias.grad after backward')
print(net.conv1.bias.grad)
assert net.conv1.bias.grad.shape == (6,) and net.conv1.bias.grad.abs().sum() > 0

# Update the weights: weight = weight - learning_rate * gradient
learning_rate = 0.01
before = net.fc3.bias.detach().clone()
for f in net.parameters():
    f.data.sub_(f.grad.data * learning_rate)
assert torch.allclose(net.fc3.bias.detach(), before - learning_rate * net.fc3.bias.grad)

# create your optimizer
optimizer = optim.SGD(net.parameters(), lr=0.01)

# in your training loop:
optimizer.zero_grad()  # zero the gradient buffers
output = net(input)
loss = criterion(output, target)
loss.backward()
optimizer.step()  # Does the update

# Fit a fixed batch of 8 random images to random targets
inputs = torch.randn(8, 1, 32, 32)
targets = torch.randn(8, 10)
optimizer = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
for step in range(150):
    optimizer.zero_grad()
    output = net(inputs)
    loss = criterion(output, targets)
    if step == 0:
        print("first_loss", loss.item())
    loss.backward()
    optimizer.step()
    if step % 30 == 29:
        print(f"step {step + 1}: loss {loss.item():.5f}")

with torch.no_grad():
    final = criterion(net(inputs), targets)
print("final_loss", final.item())
