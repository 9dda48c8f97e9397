import torch
import torch.nn as nn

# einsum for attention and bilinear forms, torch.cat / torch.stack of lists,
# gather / scatter_add_, topk, and argmax accuracy with .sum().item().
torch.manual_seed(12)


class EinsumAttention(nn.Module):
    def __init__(self, d=8, heads=2):
        super().__init__()
        self.h, self.dk = heads, d // heads
        self.qkv = nn.Linear(d, 3 * d, bias=False)
        self.bil = nn.Parameter(torch.randn(d, d) * 0.1)
        self.out = nn.Linear(d, 4)

    def forward(self, x):
        B, T, D = x.shape
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        q = q.reshape(B, T, self.h, self.dk)
        k = k.reshape(B, T, self.h, self.dk)
        v = v.reshape(B, T, self.h, self.dk)
        scores = torch.einsum("bqhd,bkhd->bhqk", q, k) / self.dk ** 0.5
        att = scores.softmax(dim=-1)
        ctx = torch.einsum("bhqk,bkhd->bqhd", att, v).reshape(B, T, D)
        pooled = torch.cat([ctx.mean(1), ctx.max(1).values], dim=-1)
        bil = torch.einsum("bi,ij,bj->b", ctx[:, 0], self.bil, ctx[:, -1]).unsqueeze(1)
        return self.out(pooled[:, :D] + pooled[:, D:] + bil)


model = EinsumAttention()
opt = torch.optim.Adagrad(model.parameters(), lr=0.05)
x = torch.randn(16, 5, 8)
target = torch.einsum("btd->b", x).gt(0).long() + 2 * (x[:, 0, 0] > 0).long()
for step in range(10):
    logits = model(x)
    loss = nn.functional.cross_entropy(logits, target)
    opt.zero_grad()
    loss.backward()
    opt.step()
    correct = (logits.argmax(dim=1) == target).sum().item()
    if step % 3 == 0:
        print(f"step {step} loss {loss.item():.6f} correct {correct}/{target.size(0)}")
picked = logits.gather(1, target.unsqueeze(1)).squeeze(1)
counts = torch.zeros(4).scatter_add_(0, target, torch.ones(16))
top = torch.topk(logits[0], 2)
rows = torch.stack([logits[i] for i in range(3)])
print("picked", round(picked.sum().item(), 5), "counts", counts.tolist(), "top", top.indices.tolist(),
      "rows", tuple(rows.shape))
