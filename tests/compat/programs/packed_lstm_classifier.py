import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

# Variable-length sequences: pad_sequence, pack_padded_sequence into an LSTM, pad_packed_sequence.
torch.manual_seed(3)
VOCAB, EMB, HID, CLASSES = 20, 8, 16, 2

lengths = [7, 3, 5, 2, 6, 4]
seqs = [torch.randint(1, VOCAB, (n,)) for n in lengths]
labels = torch.tensor([int(s.sum().item()) % 2 for s in seqs])


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, EMB, padding_idx=0)
        self.lstm = nn.LSTM(EMB, HID, batch_first=True)
        self.fc = nn.Linear(HID, CLASSES)

    def forward(self, padded, lengths):
        emb = self.embedding(padded)
        packed = pack_padded_sequence(emb, lengths, batch_first=True, enforce_sorted=False)
        packed_out, (h_n, c_n) = self.lstm(packed)
        out, out_lengths = pad_packed_sequence(packed_out, batch_first=True)
        return self.fc(h_n[-1]), out, out_lengths


model = Classifier()
opt = torch.optim.Adam(model.parameters(), lr=0.01)
padded = pad_sequence(seqs, batch_first=True)
print("padded shape", padded.shape)
for step in range(15):
    opt.zero_grad()
    logits, out, out_lengths = model(padded, torch.tensor(lengths))
    loss = nn.functional.cross_entropy(logits, labels)
    loss.backward()
    opt.step()
    if step % 5 == 0:
        print(f"step {step} loss {loss.item():.6f}")
print("unpacked", tuple(out.shape), out_lengths.tolist())
print("padding positions are zero:", bool((out[1, 3:] == 0).all()))
