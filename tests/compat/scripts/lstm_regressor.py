"""Predict the next value of a noisy sine wave from a window of 20 values with an LSTM."""

import math

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
torch.manual_seed(0)

seq_len = 20
t = torch.linspace(0, 16 * math.pi, 620)
series = torch.sin(t) + 0.05 * torch.randn(t.shape)
X = torch.stack([series[i:i + seq_len] for i in range(len(series) - seq_len)]).unsqueeze(-1)
y = series[seq_len:].unsqueeze(-1)
n_train = 480
train_loader = DataLoader(TensorDataset(X[:n_train], y[:n_train]), batch_size=32, shuffle=True)
X_test, y_test = X[n_train:].to(device), y[n_train:].to(device)


class SequenceRegressor(nn.Module):
    def __init__(self, input_size=1, hidden_size=32, num_layers=1):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True)
        self.fc = nn.Linear(hidden_size, 1)

    def forward(self, x):
        output, (h_n, c_n) = self.lstm(x)
        return self.fc(output[:, -1])


model = SequenceRegressor().to(device)
criterion = nn.MSELoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)


def test_loss():
    model.eval()
    with torch.no_grad():
        return criterion(model(X_test), y_test).item()


print("first_loss", test_loss())
for epoch in range(8):
    model.train()
    epoch_loss = 0.0
    for inputs, targets in train_loader:
        inputs, targets = inputs.to(device), targets.to(device)
        optimizer.zero_grad()
        loss = criterion(model(inputs), targets)
        loss.backward()
        optimizer.step()
        epoch_loss += loss.item() * inputs.size(0)
    print(f"epoch {epoch + 1}: train {epoch_loss / n_train:.5f}, test {test_loss():.5f}")

print("final_loss", test_loss())
