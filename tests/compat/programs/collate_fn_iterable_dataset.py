import torch
import torch.nn as nn
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import DataLoader, Dataset, IterableDataset

# A custom collate_fn that pads variable-length samples, an IterableDataset streaming
# windows, drop_last, and a bag-of-embeddings model trained on both.
torch.manual_seed(29)


class Sentences(Dataset):
    def __init__(self):
        self.data = [torch.randint(1, 15, (n,)) for n in [3, 7, 2, 5, 4, 6, 1, 8, 3, 5]]
        self.labels = [int(s[0].item() > 7) for s in self.data]

    def __len__(self):
        return len(self.data)

    def __getitem__(self, i):
        return self.data[i], self.labels[i]


def collate_batch(batch):
    seqs, labels = zip(*batch)
    lengths = torch.tensor([len(s) for s in seqs])
    return pad_sequence(seqs, batch_first=True, padding_value=0), lengths, torch.tensor(labels)


class Stream(IterableDataset):
    def __init__(self, series, window):
        self.series, self.window = series, window

    def __iter__(self):
        for i in range(len(self.series) - self.window):
            yield self.series[i:i + self.window], self.series[i + self.window]


class Bag(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(15, 6, padding_idx=0)
        self.fc = nn.Linear(6, 2)

    def forward(self, x, lengths):
        return self.fc(self.emb(x).sum(1) / lengths.unsqueeze(1).float())


model = Bag()
opt = torch.optim.SGD(model.parameters(), lr=0.5)
loader = DataLoader(Sentences(), batch_size=4, shuffle=True, collate_fn=collate_batch, drop_last=True)
for epoch in range(3):
    for x, lengths, y in loader:
        loss = nn.functional.cross_entropy(model(x, lengths), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    print(f"epoch {epoch} batch shape {tuple(x.shape)} loss {loss.item():.6f}")

series = torch.sin(torch.arange(40).float() / 4)
reg = nn.Linear(5, 1)
ropt = torch.optim.Adam(reg.parameters(), lr=0.05)
for epoch in range(2):
    total = 0.0
    for xb, yb in DataLoader(Stream(series, 5), batch_size=8):
        loss = nn.functional.mse_loss(reg(xb).squeeze(1), yb)
        ropt.zero_grad()
        loss.backward()
        ropt.step()
        total += loss.item()
    print(f"stream epoch {epoch} loss {total:.6f}")
