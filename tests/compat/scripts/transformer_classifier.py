"""A tiny TransformerEncoder that tells whether a marker token occurs in a sequence."""

import torch
import torch.nn as nn
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
vocab_size, seq_len, marker = 16, 10, 5


def make_data(n):
    tokens = torch.randint(0, vocab_size, (n, seq_len))
    labels = (tokens == marker).any(dim=1).long()
    return tokens, labels


class TransformerClassifier(nn.Module):
    def __init__(self, vocab_size, d_model=32, nhead=4, num_layers=2, num_classes=2):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, d_model)
        self.pos_embedding = nn.Parameter(torch.zeros(1, seq_len, d_model))
        encoder_layer = nn.TransformerEncoderLayer(d_model=d_model, nhead=nhead, dim_feedforward=64,
                                                   dropout=0.1, batch_first=True)
        self.encoder = nn.TransformerEncoder(encoder_layer, num_layers=num_layers)
        self.classifier = nn.Linear(d_model, num_classes)

    def forward(self, x):
        h = self.embedding(x) + self.pos_embedding[:, :x.size(1)]
        h = self.encoder(h)
        return self.classifier(h.mean(dim=1))


train_x, train_y = make_data(1024)
test_x, test_y = make_data(256)
train_loader = DataLoader(TensorDataset(train_x, train_y), batch_size=64, shuffle=True)
test_loader = DataLoader(TensorDataset(test_x, test_y), batch_size=128)

model = TransformerClassifier(vocab_size)
criterion = nn.CrossEntropyLoss()
optimizer = optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)


def evaluate():
    model.eval()
    correct, total, loss_sum = 0, 0, 0.0
    with torch.no_grad():
        for x, y in test_loader:
            out = model(x)
            loss_sum += criterion(out, y).item() * x.size(0)
            _, pred = torch.max(out, 1)
            correct += (pred == y).sum().item()
            total += y.size(0)
    return loss_sum / total, correct / total


print("first_loss", evaluate()[0])
for epoch in range(8):
    model.train()
    for x, y in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
    test_loss, acc = evaluate()
    print(f"epoch {epoch + 1}: test loss {test_loss:.4f}, accuracy {100 * acc:.1f}%")

print("final_loss", test_loss)
