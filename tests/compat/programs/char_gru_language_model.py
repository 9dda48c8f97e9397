import torch
import torch.nn as nn

# A character-level GRU language model: Embedding -> GRU -> Linear, cross-entropy over
# logits.view(-1, vocab), hidden state carried and detached, sampling with multinomial.
torch.manual_seed(42)
text = "the quick brown fox jumps over the lazy dog. " * 8
chars = sorted(set(text))
stoi = {c: i for i, c in enumerate(chars)}
itos = {i: c for c, i in stoi.items()}
data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
V = len(chars)


class CharRNN(nn.Module):
    def __init__(self, vocab, emb=16, hidden=32, layers=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, emb)
        self.rnn = nn.GRU(emb, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x, h=None):
        out, h = self.rnn(self.embed(x), h)
        return self.head(out), h


model = CharRNN(V)
opt = torch.optim.Adam(model.parameters(), lr=0.01)
seq_len, batch = 12, 4
h = None
for step in range(15):
    starts = torch.randint(0, len(data) - seq_len - 1, (batch,))
    x = torch.stack([data[s:s + seq_len] for s in starts])
    y = torch.stack([data[s + 1:s + seq_len + 1] for s in starts])
    logits, h = model(x, None if h is None else h.detach())
    loss = nn.functional.cross_entropy(logits.view(-1, V), y.view(-1))
    opt.zero_grad()
    loss.backward()
    nn.utils.clip_grad_value_(model.parameters(), 1.0)
    opt.step()
    if step % 5 == 0:
        print(f"step {step} loss {loss.item():.6f}")
model.eval()
with torch.no_grad():
    idx = torch.tensor([[stoi["t"]]])
    hidden, out = None, "t"
    for _ in range(20):
        logits, hidden = model(idx, hidden)
        probs = torch.softmax(logits[:, -1] / 0.8, dim=-1)
        idx = torch.multinomial(probs, num_samples=1)
        out += itos[idx.item()]
print("sample:", repr(out))
