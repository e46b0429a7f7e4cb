"""A plain MLP on sklearn's digits: BatchNorm1d, Dropout, ReduceLROnPlateau on the validation loss,
early stopping by hand, the best weights saved with torch.save and restored with load_state_dict.
"""

import copy

import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
X_train, X_val, y_train, y_val = train_test_split(X_train, y_train, test_size=0.2, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_val, X_test = (torch.tensor(scaler.transform(a), dtype=torch.float32) for a in (X_train, X_val, X_test))
y_train, y_val, y_test = (torch.tensor(a, dtype=torch.long) for a in (y_train, y_val, y_test))

train_loader = DataLoader(TensorDataset(X_train, y_train), batch_size=32, shuffle=True)

model = nn.Sequential(
    nn.Linear(64, 128),
    nn.BatchNorm1d(128),
    nn.ReLU(),
    nn.Dropout(0.3),
    nn.Linear(128, 64),
    nn.BatchNorm1d(64),
    nn.ReLU(),
    nn.Dropout(0.3),
    nn.Linear(64, 10),
)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-4)
scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode='min', factor=0.5, patience=2)


def evaluate(features, labels):
    model.eval()
    with torch.no_grad():
        logits = model(features)
        loss = criterion(logits, labels).item()
        accuracy = (logits.argmax(dim=1) == labels).float().mean().item()
    return loss, accuracy


first_loss, _ = evaluate(X_test, y_test)
print("first_loss", first_loss)

best_val_loss = float('inf')
best_state = None
epochs_without_improvement = 0
patience = 5
for epoch in range(60):
    model.train()
    losses = []
    for xb, yb in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    val_loss, val_acc = evaluate(X_val, y_val)
    scheduler.step(val_loss)
    lr = optimizer.param_groups[0]['lr']
    print(f"epoch {epoch:2d}  train {np.mean(losses):.4f}  val {val_loss:.4f}  acc {val_acc:.3f}  lr {lr:.5f}")
    if val_loss < best_val_loss - 1e-4:
        best_val_loss = val_loss
        best_state = copy.deepcopy(model.state_dict())
        torch.save(model.state_dict(), 'best.pt')
        epochs_without_improvement = 0
    else:
        epochs_without_improvement += 1
        if epochs_without_improvement >= patience:
            print(f"early stopping after epoch {epoch}")
            break

assert set(best_state) == set(model.state_dict())
assert '1.running_mean' in best_state and '1.num_batches_tracked' in best_state

model.load_state_dict(torch.load('best.pt'))
for key, value in model.state_dict().items():
    assert torch.equal(value, best_state[key]), key
restored_val_loss, _ = evaluate(X_val, y_val)
assert abs(restored_val_loss - best_val_loss) < 1e-6, (restored_val_loss, best_val_loss)

test_loss, test_acc = evaluate(X_test, y_test)
print(f"best val loss {best_val_loss:.4f}, test accuracy {test_acc:.3f}")
print("final_loss", test_loss)
