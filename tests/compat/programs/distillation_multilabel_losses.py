import torch
import torch.nn as nn
import torch.nn.functional as F

# Knowledge distillation (KLDivLoss(reduction="batchmean") on temperature-scaled
# log_softmax), multi-label BCEWithLogitsLoss with pos_weight, weighted cross-entropy,
# a triplet margin loss, and gradient accumulation over micro-batches.
torch.manual_seed(77)
teacher = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 4))
student = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 4))
multi = nn.Linear(6, 3)
embed = nn.Linear(6, 5)
opt = torch.optim.RAdam(list(student.parameters()) + list(multi.parameters()) + list(embed.parameters()), lr=1e-2)
kl = nn.KLDivLoss(reduction="batchmean")
bce = nn.BCEWithLogitsLoss(pos_weight=torch.tensor([1.0, 2.0, 0.5]))
ce = nn.CrossEntropyLoss(weight=torch.tensor([1.0, 2.0, 1.0, 0.5]))
triplet = nn.TripletMarginLoss(margin=1.0, p=2)
x = torch.randn(32, 6)
y = torch.randint(0, 4, (32,))
ml = (torch.rand(32, 3) > 0.5).float()
T, accum = 2.0, 4
for epoch in range(4):
    opt.zero_grad()
    total = 0.0
    for i in range(accum):
        xb = x[i * 8:(i + 1) * 8]
        with torch.no_grad():
            t_logits = teacher(xb)
        s_logits = student(xb)
        loss = kl(F.log_softmax(s_logits / T, dim=1), F.softmax(t_logits / T, dim=1)) * T * T
        loss = loss + ce(s_logits, y[i * 8:(i + 1) * 8]) + bce(multi(xb), ml[i * 8:(i + 1) * 8])
        a, p, n = embed(xb), embed(xb + 0.1), embed(xb.flip(0))
        loss = loss + triplet(a, p, n)
        (loss / accum).backward()
        total += loss.item()
    opt.step()
    print(f"epoch {epoch} loss {total / accum:.6f}")
