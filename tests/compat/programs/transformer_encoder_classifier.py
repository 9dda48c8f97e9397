import torch
import math
import torch.nn as nn

# nn.TransformerEncoder with a sinusoidal positional-encoding buffer (the PyTorch
# tutorial's PositionalEncoding), src_key_padding_mask, mean pooling.
torch.manual_seed(6)


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, max_len=64):
        super().__init__()
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, 1, d_model)
        pe[:, 0, 0::2] = torch.sin(position * div_term)
        pe[:, 0, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe)

    def forward(self, x):
        return x + self.pe[:x.size(0)]


class Classifier(nn.Module):
    def __init__(self, vocab=30, d=16, classes=3):
        super().__init__()
        self.emb = nn.Embedding(vocab, d, padding_idx=0)
        self.pos = PositionalEncoding(d)
        layer = nn.TransformerEncoderLayer(d, nhead=2, dim_feedforward=32, dropout=0.0)
        self.encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
        self.fc = nn.Linear(d, classes)

    def forward(self, src, pad_mask):
        x = self.pos(self.emb(src) * math.sqrt(16))
        x = self.encoder(x, src_key_padding_mask=pad_mask)
        keep = (~pad_mask).T.unsqueeze(-1).float()
        return self.fc((x * keep).sum(0) / keep.sum(0))


model = Classifier()
opt = torch.optim.AdamW(model.parameters(), lr=5e-3)
src = torch.randint(1, 30, (7, 8))
src[5:, :3] = 0
pad_mask = (src == 0).T
y = src[0] % 3
for step in range(10):
    loss = nn.functional.cross_entropy(model(src, pad_mask), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 3 == 0:
        print(f"step {step} loss {loss.item():.6f}")
model.eval()
with torch.no_grad():
    pred = model(src, pad_mask).argmax(1)
print("accuracy", (pred == y).float().mean().item())
