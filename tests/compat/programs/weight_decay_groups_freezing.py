import torch
import torch.nn as nn

# Hugging Face's AdamW grouping (no weight decay for biases and LayerNorm weights) built from
# named_parameters(), nn.ParameterList, an Embedding with padding_idx, freezing with
# requires_grad_(False), and counting trainable parameters.
torch.manual_seed(17)


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.embeddings = nn.Embedding(12, 8, padding_idx=0)
        self.LayerNorm = nn.LayerNorm(8)
        self.scales = nn.ParameterList([nn.Parameter(torch.ones(8)) for _ in range(2)])
        self.layers = nn.ModuleList([nn.Linear(8, 8) for _ in range(2)])
        self.classifier = nn.Linear(8, 2)

    def forward(self, ids):
        x = self.LayerNorm(self.embeddings(ids).mean(1))
        for scale, layer in zip(self.scales, self.layers):
            x = x + torch.relu(layer(x * scale))
        return self.classifier(x)


model = Model()
model.embeddings.requires_grad_(False)
no_decay = ["bias", "LayerNorm.weight"]
optimizer_grouped_parameters = [
    {"params": [p for n, p in model.named_parameters() if not any(nd in n for nd in no_decay) and p.requires_grad],
     "weight_decay": 0.01},
    {"params": [p for n, p in model.named_parameters() if any(nd in n for nd in no_decay)], "weight_decay": 0.0},
]
optimizer = torch.optim.AdamW(optimizer_grouped_parameters, lr=1e-2)
print("trainable", sum(p.numel() for p in model.parameters() if p.requires_grad),
      "total", sum(p.numel() for p in model.parameters()))
print("groups", [len(g["params"]) for g in optimizer.param_groups])
ids = torch.randint(0, 12, (10, 5))
ids[:, 3:] = 0
labels = (ids[:, 0] > 5).long()
for step in range(8):
    loss = nn.functional.cross_entropy(model(ids), labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 2 == 0:
        print(f"step {step} loss {loss.item():.6f}")
print("padding row stays zero:", model.embeddings.weight[0].abs().sum().item(),
      "embedding grad", model.embeddings.weight.grad)
