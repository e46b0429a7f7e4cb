"""A network whose depth is chosen at random on every forward pass, reusing one weight.

After "Learning PyTorch with Examples": control flow and weight sharing.
"""

import math
import random

import torch


class DynamicNet(torch.nn.Module):
    def __init__(self):
        """
        In the constructor we instantiate five parameters and assign them as members;
        small initial values let 3000 steps of SGD get close to the best fit.
        """
        super().__init__()
        self.a = torch.nn.Parameter(0.1 * torch.randn(()))
        self.b = torch.nn.Parameter(0.1 * torch.randn(()))
        self.c = torch.nn.Parameter(0.1 * torch.randn(()))
        self.d = torch.nn.Parameter(0.1 * torch.randn(()))
        self.e = torch.nn.Parameter(0.1 * torch.randn(()))

    def forward(self, x):
        """
        For the forward pass of the model, we randomly choose either 4, 5
        and reuse the e parameter to compute the contribution of these orders.

        Since each forward pass builds a dynamic computation graph, we can use normal
        Python control-flow operators like loops or conditional statements when
        defining the forward pass of the model.

        Here we also see that it is perfectly safe to reuse the same parameter many
        times when defining a computational graph.
        """
        y = self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3
        for exp in range(4, random.randint(4, 6)):
            y = y + self.e * x ** exp
        return y

    def string(self):
        return (f'y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2 + {self.d.item()} x^3 + '
                f'{self.e.item()} x^4 ? + {self.e.item()} x^5 ?')


random.seed(0)
torch.manual_seed(0)
x = torch.linspace(-math.pi, math.pi, 2000)
y = torch.sin(x)

model = DynamicNet()

# Training this strange model with vanilla stochastic gradient descent is tough, so we use momentum
criterion = torch.nn.MSELoss(reduction='sum')
optimizer = torch.optim.SGD(model.parameters(), lr=2e-8, momentum=0.9)
losses = []
for t in range(3000):
    y_pred = model(x)

    loss = criterion(y_pred, y)
    losses.append(loss.item())
    if t == 0:
        print("first_loss", loss.item())
    if t % 1000 == 999:
        print(t, loss.item())

    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

print(f'Result: {model.string()}')
# The depth is random, so report the mean loss over the last 100 steps.
print("final_loss", sum(losses[-100:]) / 100)
