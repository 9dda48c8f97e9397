import torch

# In-place idioms: +=, masked_fill_, clamp_, p.data.add_(p.grad, alpha=-lr), p.grad.zero_(),
# w.data.normal_(), torch.cat of a list, x.size(0).
torch.manual_seed(21)
N, D_in, H, D_out = 64, 10, 20, 3
x = torch.randn(N, D_in)
y = torch.randn(N, D_out)
w1 = torch.randn(D_in, H, requires_grad=True)
w2 = torch.randn(H, D_out, requires_grad=True)
with torch.no_grad():
    w1.data.normal_(0, 0.3)
    w2 *= 0.5
learning_rate = 1e-3
for t in range(30):
    h = x.mm(w1)
    h_relu = h.clamp(min=0)
    y_pred = h_relu.mm(w2)
    loss = (y_pred - y).pow(2).sum()
    if t % 10 == 9:
        print(t, "loss", loss.item())
    loss.backward()
    for p in (w1, w2):
        p.data.add_(p.grad, alpha=-learning_rate)
        p.grad.zero_()

scores = torch.randn(4, 6)
mask = scores < 0
scores.masked_fill_(mask, -1e9)
scores.clamp_(-5, 5)
acc = torch.zeros(6)
for row in scores:
    acc += row
parts = [scores[i:i + 1] * (i + 1) for i in range(scores.size(0))]
stacked = torch.cat(parts, dim=0)
print("acc", [round(v, 5) for v in acc.tolist()], "loss-free check", stacked.sum().item())
