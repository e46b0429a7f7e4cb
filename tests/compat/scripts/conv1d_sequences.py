"""A 1-D convolutional classifier of synthetic waveforms (sine, square, sawtooth) with label
smoothing, OneCycleLR stepped every batch, and a confusion matrix built from one_hot.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)

num_classes = 3
length = 64


def make_waves(n):
    labels = torch.randint(0, num_classes, (n,))
    t = torch.arange(length, dtype=torch.float32).unsqueeze(0)
    freq = 0.03 + 0.05 * torch.rand(n, 1)
    phase = 2 * math.pi * torch.rand(n, 1)
    angle = 2 * math.pi * freq * t + phase
    sine = torch.sin(angle)
    square = torch.sign(sine)
    saw = 2 * torch.remainder(angle / (2 * math.pi), 1.0) - 1
    waves = torch.stack([sine, square, saw], dim=1)  # (n, 3, length)
    x = waves[torch.arange(n), labels] + 0.3 * torch.randn(n, length)
    return x.unsqueeze(1), labels  # (n, 1, length): one input channel


x_train, y_train = make_waves(600)
x_test, y_test = make_waves(300)
train_loader = DataLoader(TensorDataset(x_train, y_train), batch_size=32, shuffle=True)


class WaveNet1d(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv1d(1, 16, kernel_size=5, padding=2),
            nn.ReLU(),
            nn.MaxPool1d(2),
            nn.Conv1d(16, 32, kernel_size=5, padding=2),
            nn.ReLU(),
            nn.MaxPool1d(2),
            nn.Conv1d(32, 32, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool1d(1),
        )
        self.classifier = nn.Linear(32, num_classes)

    def forward(self, x):
        x = self.features(x)
        return self.classifier(x.squeeze(-1))


model = WaveNet1d()
criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
epochs = 12
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, epochs=epochs,
                                                steps_per_epoch=len(train_loader))


def evaluate():
    model.eval()
    with torch.no_grad():
        logits = model(x_test)
        loss = criterion(logits, y_test).item()
        pred = logits.argmax(dim=1)
        confusion = F.one_hot(y_test, num_classes).T.float() @ F.one_hot(pred, num_classes).float()
    assert confusion.sum().item() == len(y_test)
    return loss, confusion


loss, _ = evaluate()
print("first_loss", loss)
lrs = []
for epoch in range(epochs):
    model.train()
    total = 0.0
    for xb, yb in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        optimizer.step()
        scheduler.step()
        lrs.append(scheduler.get_last_lr()[0])
        total += loss.item() * len(xb)
    test_loss, confusion = evaluate()
    accuracy = confusion.diag().sum().item() / len(y_test)
    print(f"epoch {epoch + 1}: train {total / len(x_train):.4f}  test {test_loss:.4f}  "
          f"accuracy {accuracy:.3f}  lr {lrs[-1]:.5f}")

assert max(lrs) <= 0.1 + 1e-6 and lrs[-1] < 1e-3 and lrs.index(max(lrs)) < len(lrs) // 2
print(confusion)
print("final_loss", test_loss)
