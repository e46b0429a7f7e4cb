"""micrograd's demo in PyTorch: a 2-16-16-1 MLP separating the two moons with a max-margin loss."""

import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import make_moons

np.random.seed(1337)
torch.manual_seed(1337)

# make up a dataset
X, y = make_moons(n_samples=100, noise=0.1, random_state=1337)
y = y*2 - 1  # make y be -1 or 1


class MLP(nn.Module):
    def __init__(self, nin, nouts):
        super().__init__()
        sz = [nin] + nouts
        self.layers = nn.ModuleList([nn.Linear(sz[i], sz[i+1]) for i in range(len(nouts))])

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i != len(self.layers) - 1:
                x = x.relu()
        return x


# initialize a model
model = MLP(2, [16, 16, 1])  # 2-layer neural network
print(model)
print("number of parameters", sum(p.numel() for p in model.parameters()))


# loss function
def loss(batch_size=None):
    # inline DataLoader :)
    if batch_size is None:
        Xb, yb = X, y
    else:
        ri = np.random.permutation(X.shape[0])[:batch_size]
        Xb, yb = X[ri], y[ri]
    inputs = torch.tensor(Xb, dtype=torch.float32)
    yb = torch.tensor(yb, dtype=torch.float32)

    # forward the model to get scores
    scores = model(inputs).view(-1)

    # svm "max-margin" loss
    losses = (1 + -yb*scores).relu()
    data_loss = losses.sum() * (1.0 / len(losses))
    # L2 regularization
    alpha = 1e-4
    reg_loss = alpha * sum((p*p).sum() for p in model.parameters())
    total_loss = data_loss + reg_loss

    # also get accuracy
    accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(yb, scores)]
    return total_loss, sum(accuracy) / len(accuracy)


total_loss, acc = loss()
print(total_loss, acc)
print("first_loss", total_loss.item())

# optimization
for k in range(100):
    # forward
    total_loss, acc = loss()

    # backward
    model.zero_grad()
    total_loss.backward()

    # update (sgd)
    learning_rate = 1.0 - 0.9*k/100
    for p in model.parameters():
        p.data -= learning_rate * p.grad

    if k % 10 == 0:
        print(f"step {k} loss {total_loss.item()}, accuracy {acc.item()*100}%")

total_loss, acc = loss()
print(f"accuracy {float(acc)*100:.1f}%")
print("final_loss", total_loss.item())
