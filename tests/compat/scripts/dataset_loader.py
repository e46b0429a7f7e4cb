"""A map-style Dataset subclass, random_split into train and validation, DataLoader with shuffling."""

import math

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, random_split


class SpiralDataset(Dataset):
    """Three interleaved spiral arms in the plane; the label is the arm."""

    def __init__(self, points_per_class=100, classes=3):
        xs, ys = [], []
        for label in range(classes):
            r = torch.linspace(0.0, 1.0, points_per_class)
            t = torch.linspace(label * 4.0, (label + 1) * 4.0, points_per_class) + 0.2 * torch.randn(points_per_class)
            xs.append(torch.stack([r * torch.sin(t), r * torch.cos(t)], dim=1))
            ys.append(torch.full((points_per_class,), label, dtype=torch.long))
        self.points = torch.cat(xs)
        self.labels = torch.cat(ys)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        return self.points[idx], self.labels[idx]


torch.manual_seed(42)
dataset = SpiralDataset()
train_set, val_set = random_split(dataset, [0.8, 0.2], generator=torch.Generator().manual_seed(42))
print(f"{len(train_set)} training and {len(val_set)} validation points")

train_loader = DataLoader(train_set, batch_size=16, shuffle=True)
val_loader = DataLoader(val_set, batch_size=32)

model = nn.Sequential(
    nn.Linear(2, 64),
    nn.Tanh(),
    nn.Linear(64, 64),
    nn.Tanh(),
    nn.Linear(64, 3),
)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.03, momentum=0.9)


def evaluate():
    model.eval()
    total, correct, loss_sum = 0, 0, 0.0
    with torch.no_grad():
        for inputs, labels in val_loader:
            outputs = model(inputs)
            loss_sum += criterion(outputs, labels).item() * inputs.size(0)
            correct += (outputs.argmax(dim=1) == labels).sum().item()
            total += labels.size(0)
    return loss_sum / total, correct / total


val_loss, _ = evaluate()
print("first_loss", val_loss)
for epoch in range(30):
    model.train()
    running_loss = 0.0
    for inputs, labels in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(inputs), labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
    val_loss, val_acc = evaluate()
    if epoch % 5 == 4:
        print(f"epoch {epoch + 1}: train loss {running_loss / len(train_loader):.4f}, "
              f"val loss {val_loss:.4f}, val accuracy {100 * val_acc:.1f}%")

assert math.isfinite(val_loss)
print("final_loss", val_loss)
