import torch
import torch.nn as nn
import torch.nn.functional as F
import random

# The PyTorch seq2seq tutorial's shape: GRU encoder, attention decoder (bmm over encoder
# outputs), teacher forcing chosen with random.random(), NLLLoss summed over steps.
random.seed(0)
torch.manual_seed(0)
SOS, EOS, V, H, MAXLEN = 0, 1, 12, 16, 6


class EncoderRNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(V, H)
        self.gru = nn.GRU(H, H, batch_first=True)

    def forward(self, input):
        return self.gru(self.embedding(input))


class AttnDecoderRNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(V, H)
        self.Wa, self.Ua, self.Va = nn.Linear(H, H), nn.Linear(H, H), nn.Linear(H, 1)
        self.gru = nn.GRU(2 * H, H, batch_first=True)
        self.out = nn.Linear(H, V)

    def forward_step(self, input, hidden, encoder_outputs):
        embedded = self.embedding(input)
        query = hidden.permute(1, 0, 2)
        scores = self.Va(torch.tanh(self.Wa(query) + self.Ua(encoder_outputs))).squeeze(2).unsqueeze(1)
        weights = F.softmax(scores, dim=-1)
        context = torch.bmm(weights, encoder_outputs)
        output, hidden = self.gru(torch.cat((embedded, context), dim=2), hidden)
        return self.out(output), hidden, weights


encoder, decoder = EncoderRNN(), AttnDecoderRNN()
params = list(encoder.parameters()) + list(decoder.parameters())
optimizer = torch.optim.Adam(params, lr=0.01)
criterion = nn.NLLLoss()
src = torch.randint(2, V, (4, MAXLEN))
tgt = torch.flip(src, dims=[1])
for it in range(8):
    optimizer.zero_grad()
    encoder_outputs, hidden = encoder(src)
    dec_input = torch.full((4, 1), SOS, dtype=torch.long)
    loss = 0
    use_teacher_forcing = random.random() < 0.5
    for t in range(MAXLEN):
        out, hidden, attn = decoder.forward_step(dec_input, hidden, encoder_outputs)
        log_probs = F.log_softmax(out.squeeze(1), dim=-1)
        loss += criterion(log_probs, tgt[:, t])
        if use_teacher_forcing:
            dec_input = tgt[:, t].unsqueeze(1)
        else:
            _, topi = log_probs.topk(1)
            dec_input = topi.detach()
    loss.backward()
    optimizer.step()
    print(f"iter {it} teacher {use_teacher_forcing} loss {loss.item() / MAXLEN:.6f}")
print("attention row sums", [round(v, 5) for v in attn.sum(-1).view(-1).tolist()])
