"""Custom torch.autograd.Function classes: a straight-through estimator for sign(), a max that
returns its indices marked non-differentiable, and a log-cosh loss with its own backward, checked
with torch.autograd.gradcheck; then a network with binary hidden units trained on the two moons.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import make_moons
from torch.autograd import Function, gradcheck

torch.manual_seed(0)


class StraightThroughSign(Function):
    """sign(x) forward; the gradient of hardtanh(x) backward (1 inside [-1, 1], 0 outside)."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return torch.sign(input)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        grad_input = None
        if ctx.needs_input_grad[0]:
            grad_input = grad_output * (input.abs() <= 1).to(grad_output.dtype)
        return grad_input


class MaxWithIndices(Function):
    """The maximum along the last dimension and where it is; the indices carry no gradient."""

    @staticmethod
    def forward(ctx, input):
        values, indices = input.max(dim=-1)
        ctx.mark_non_differentiable(indices)
        ctx.save_for_backward(indices)
        ctx.input_shape = input.shape
        return values, indices

    @staticmethod
    def backward(ctx, grad_values, grad_indices):
        indices, = ctx.saved_tensors
        grad_input = torch.zeros(ctx.input_shape, dtype=grad_values.dtype)
        grad_input.scatter_(-1, indices.unsqueeze(-1), grad_values.unsqueeze(-1))
        return grad_input


needs_seen = []


class LogCoshLoss(Function):
    """mean(log(cosh(pred - target))); the target gets a gradient only when it asks for one."""

    @staticmethod
    def forward(ctx, pred, target):
        diff = pred - target
        ctx.save_for_backward(diff)
        return (diff + F.softplus(-2 * diff) - torch.log(torch.tensor(2.0, dtype=diff.dtype))).mean()

    @staticmethod
    def backward(ctx, grad_output):
        diff, = ctx.saved_tensors
        needs_seen.append(tuple(ctx.needs_input_grad))
        grad = grad_output * torch.tanh(diff) / diff.numel()
        grad_pred = grad if ctx.needs_input_grad[0] else None
        grad_target = -grad if ctx.needs_input_grad[1] else None
        return grad_pred, grad_target


# gradcheck in float64 on the differentiable functions
x = torch.randn(4, 5)
assert gradcheck(lambda t: MaxWithIndices.apply(t)[0], (x.double().requires_grad_(),), eps=1e-6, atol=1e-4)
a, b = torch.randn(6), torch.randn(6)
assert gradcheck(LogCoshLoss.apply, (a.double().requires_grad_(), b.double().requires_grad_()),
                 eps=1e-6, atol=1e-4)
# the straight-through gradient is deliberately not sign's (zero) derivative
away_from_zero = torch.rand(5) * 0.8 + 0.1
assert not gradcheck(StraightThroughSign.apply, (away_from_zero.double().requires_grad_(),),
                     eps=1e-6, atol=1e-4, raise_exception=False)

values, indices = MaxWithIndices.apply(x.requires_grad_())
print(values, indices)
assert values.requires_grad and not indices.requires_grad
assert torch.equal(indices, x.argmax(dim=-1))
values.sum().backward()
assert torch.equal(x.grad, F.one_hot(indices, 5).float())

pred = torch.randn(8, requires_grad=True)
target = torch.randn(8)
LogCoshLoss.apply(pred, target).backward()
assert needs_seen[-1] == (True, False), needs_seen
assert torch.allclose(pred.grad, torch.tanh(pred.detach() - target) / 8, atol=1e-6)

s = torch.tensor([-2.0, -0.5, 0.0, 0.5, 2.0], requires_grad=True)
out = StraightThroughSign.apply(s)
out.sum().backward()
print(out, s.grad)
assert torch.equal(s.grad, torch.tensor([0.0, 1.0, 1.0, 1.0, 0.0]))


class BinaryNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(2, 64)
        self.bn = nn.BatchNorm1d(64)
        self.fc2 = nn.Linear(64, 2)

    def forward(self, x):
        h = StraightThroughSign.apply(self.bn(self.fc1(x)))
        return self.fc2(h)


X, y = make_moons(n_samples=300, noise=0.15, random_state=0)
X = torch.tensor(X, dtype=torch.float32)
y = torch.tensor(y, dtype=torch.long)
X_train, y_train, X_test, y_test = X[:200], y[:200], X[200:], y[200:]

net = BinaryNet()
optimizer = torch.optim.Adam(net.parameters(), lr=0.02)


def test_loss():
    net.eval()
    with torch.no_grad():
        logits = net(X_test)
        accuracy = (logits.argmax(1) == y_test).float().mean().item()
        return F.cross_entropy(logits, y_test).item(), accuracy


print("first_loss", test_loss()[0])
for step in range(300):
    net.train()
    optimizer.zero_grad()
    loss = F.cross_entropy(net(X_train), y_train)
    loss.backward()
    optimizer.step()
    if step % 50 == 49:
        loss_value, accuracy = test_loss()
        print(f"step {step + 1}: train {loss.item():.4f}, test {loss_value:.4f}, accuracy {accuracy:.3f}")

print("final_loss", test_loss()[0])
