"""Classify token sequences with an Embedding and a GRU; gradients clipped by norm."""

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
vocab_size, seq_len, num_classes = 12, 10, 3


def make_data(n):
    # The class is the most frequent of the tokens 0, 1 and 2 (ties go to the smaller one).
    tokens = torch.randint(0, vocab_size, (n, seq_len))
    counts = torch.stack([(tokens == k).sum(dim=1) for k in range(num_classes)], dim=1)
    return tokens, counts.argmax(dim=1)


class GRUClassifier(nn.Module):
    def __init__(self, vocab_size, embed_dim, hidden_dim, num_classes):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.gru = nn.GRU(embed_dim, hidden_dim, batch_first=True)
        self.fc = nn.Linear(hidden_dim, num_classes)

    def forward(self, x):
        embedded = self.embedding(x)
        _, h_n = self.gru(embedded)
        return self.fc(h_n[-1])


train_x, train_y = make_data(1024)
test_x, test_y = make_data(256)
loader = DataLoader(TensorDataset(train_x, train_y), batch_size=64, shuffle=True)

model = GRUClassifier(vocab_size, 16, 32, num_classes)
optimizer = optim.Adam(model.parameters(), lr=5e-3)


def evaluate():
    model.eval()
    with torch.no_grad():
        logits = model(test_x)
        loss = F.cross_entropy(logits, test_y).item()
        accuracy = (logits.argmax(1) == test_y).float().mean().item()
    return loss, accuracy


print("first_loss", evaluate()[0])
for epoch in range(10):
    model.train()
    for tokens, labels in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(tokens), labels)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
    test_loss, test_acc = evaluate()
    print(f"epoch {epoch + 1}: test loss {test_loss:.4f}, accuracy {test_acc:.3f}")

print("final_loss", test_loss)
