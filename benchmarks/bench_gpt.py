"""Transformer benchmarks, dalam vs PyTorch (CPU, float32, same thread count):

- W4: char-GPT training (nanoGPT CPU config: 4 layers, 4 heads, n_embd 128,
  block 64, batch 12, AdamW): tokens/s, ratio to PyTorch, achieved GFLOP/s
  (nanoGPT's 6N + 12 L C T flops per token) against a large GEMM's rate.
- MiniLM (all-MiniLM-L6-v2) sentence embeddings at batch 32: sentences/s
  vs transformers' BertModel + the same pooling in PyTorch.
- Greedy generation at context 256: ms per token with and without the KV cache.

    python benchmarks/bench_gpt.py                 # all, 1 thread
    python benchmarks/bench_gpt.py --only w4 --threads 2

Each figure is the best of ``--repeats`` timed runs (shared machines are noisy).
"""
import argparse
import os
import sys

# BLAS threads must be fixed before numpy loads
_ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
_ap.add_argument("--threads", type=int, default=1)
_ap.add_argument("--repeats", type=int, default=3)
_ap.add_argument("--steps", type=int, default=20, help="training steps per timed run")
_ap.add_argument("--only", choices=["w4", "minilm", "generate"], action="append")
ARGS = _ap.parse_args() if __name__ == "__main__" else _ap.parse_args([])
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = str(ARGS.threads)

import math  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as tnn  # noqa: E402
import torch.nn.functional as TF  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import dalam  # noqa: E402
from dalam.models import GPT  # noqa: E402
from dalam.models.gpt import GPTConfig  # noqa: E402

torch.set_num_threads(ARGS.threads)
W4 = dict(vocab_size=65, block_size=64, n_layer=4, n_head=4, n_embd=128, dropout=0.0)
BATCH = 12


# ------------------------------------------------------------------ PyTorch reference GPT (nanoGPT)
class TorchBlock(tnn.Module):
    def __init__(self, c):
        super().__init__()
        b = c.bias
        self.ln_1, self.ln_2 = tnn.LayerNorm(c.n_embd, bias=b), tnn.LayerNorm(c.n_embd, bias=b)
        self.c_attn = tnn.Linear(c.n_embd, 3 * c.n_embd, bias=b)
        self.a_proj = tnn.Linear(c.n_embd, c.n_embd, bias=b)
        self.c_fc = tnn.Linear(c.n_embd, 4 * c.n_embd, bias=b)
        self.m_proj = tnn.Linear(4 * c.n_embd, c.n_embd, bias=b)
        self.h = c.n_head

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, self.h, C // self.h).transpose(1, 2) for t in (q, k, v))
        y = TF.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.a_proj(y.transpose(1, 2).reshape(B, T, C))
        return x + self.m_proj(TF.gelu(self.c_fc(self.ln_2(x))))


class TorchGPT(tnn.Module):
    def __init__(self, c):
        super().__init__()
        self.wte, self.wpe = tnn.Embedding(c.vocab_size, c.n_embd), tnn.Embedding(c.block_size, c.n_embd)
        self.blocks = tnn.ModuleList([TorchBlock(c) for _ in range(c.n_layer)])
        self.ln_f = tnn.LayerNorm(c.n_embd, bias=c.bias)
        self.head = tnn.Linear(c.n_embd, c.vocab_size, bias=False)
        self.head.weight = self.wte.weight
        for name, p in self.named_parameters():  # nanoGPT's initialisation
            if p.dim() >= 2:
                tnn.init.normal_(p, 0.0, 0.02 / (math.sqrt(2 * c.n_layer) if name.endswith("proj.weight") else 1))
            elif name.endswith("bias") and "ln_" not in name:
                tnn.init.zeros_(p)

    def forward(self, idx, targets):
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
        for b in self.blocks:
            x = b(x)
        logits = self.head(self.ln_f(x))
        return TF.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))


def _best(fn, repeats):
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def gemm_gflops(n=1024, repeats=5):
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    a @ a
    return 2 * n ** 3 / _best(lambda: a @ a, repeats) / 1e9


def bench_w4(steps, repeats):
    cfg = GPTConfig(**W4)
    g = np.random.default_rng(0)
    data = g.integers(0, cfg.vocab_size, (steps + 3, 2, BATCH, cfg.block_size)).astype(np.int64)

    dalam.manual_seed(0)
    m = GPT(cfg)
    decay = [p for p in m.parameters() if p.ndim >= 2]
    rest = [p for p in m.parameters() if p.ndim < 2]
    opt = dalam.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.99))
    xs = [(dalam.tensor(d[0]), dalam.tensor(d[1])) for d in data]

    def d_steps(n, off=0):
        for i in range(n):
            x, y = xs[off + i]
            _, loss = m(x, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            dalam.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
            opt.step()

    torch.manual_seed(0)
    tm = TorchGPT(cfg)
    tdecay = [p for p in tm.parameters() if p.ndim >= 2]
    trest = [p for p in tm.parameters() if p.ndim < 2]
    topt = torch.optim.AdamW([{"params": tdecay, "weight_decay": 0.1}, {"params": trest, "weight_decay": 0.0}],
                             lr=1e-3, betas=(0.9, 0.99))
    txs = [(torch.from_numpy(d[0]), torch.from_numpy(d[1])) for d in data]

    def t_steps(n, off=0):
        for i in range(n):
            x, y = txs[off + i]
            loss = tm(x, y)
            topt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(tm.parameters(), 1.0)
            topt.step()

    d_steps(3)
    t_steps(3)
    tok = steps * BATCH * cfg.block_size
    td = _best(lambda: d_steps(steps, 3), repeats)
    tt = _best(lambda: t_steps(steps, 3), repeats)
    n_params = m.num_parameters()
    flops_tok = 6 * n_params + 12 * cfg.n_layer * cfg.n_embd * cfg.block_size
    return dict(dalam=tok / td, torch=tok / tt, gflops=flops_tok * tok / td / 1e9,
                torch_gflops=flops_tok * tok / tt / 1e9, ms_step=1e3 * td / steps, torch_ms_step=1e3 * tt / steps)


def bench_minilm(repeats, n=128, batch=32):
    from dalam.datasets.sst2 import SST2
    from dalam.models.bert import SentenceEmbedder, minilm_path
    sents = SST2(split="dev").sentences[:n]
    emb = SentenceEmbedder.from_pretrained()
    from transformers import BertModel as HFBert
    from transformers.utils import logging as hf_logging
    hf_logging.disable_progress_bar()
    ref = HFBert.from_pretrained(minilm_path()).eval()

    def ours():
        emb.encode(sents, batch_size=batch)

    order = np.argsort([-len(s) for s in sents], kind="stable")  # the same length-sorted batches

    def theirs():
        with torch.no_grad():
            for b in range(0, n, batch):
                ids, mask, types = emb.tokenize([sents[i] for i in order[b:b + batch]])
                ti, tm = torch.from_numpy(ids), torch.from_numpy(mask)
                h = ref(input_ids=ti, attention_mask=tm, token_type_ids=torch.from_numpy(types)).last_hidden_state
                mm = tm[..., None].float()
                TF.normalize((h * mm).sum(1) / mm.sum(1).clamp(min=1e-9), dim=1)

    ours()
    theirs()
    return dict(dalam=n / _best(ours, repeats), torch=n / _best(theirs, repeats))


def bench_generate(repeats, prompt_len=192, new=64):
    cfg = GPTConfig(**{**W4, "block_size": 256})
    dalam.manual_seed(0)
    m = GPT(cfg)
    p = dalam.tensor(np.random.default_rng(0).integers(0, 65, (1, prompt_len)))
    m.generate(p, 2, greedy=True)
    t_cache = _best(lambda: m.generate(p, new, greedy=True, use_cache=True), repeats)
    t_full = _best(lambda: m.generate(p, new, greedy=True, use_cache=False), repeats)
    return dict(cache_ms=1e3 * t_cache / new, full_ms=1e3 * t_full / new)


def main():
    only = set(ARGS.only or ["w4", "minilm", "generate"])
    print(f"threads {ARGS.threads}, best of {ARGS.repeats}; numpy {np.__version__}, torch {torch.__version__}")
    print(f"BLAS float32 GEMM 1024^3: {gemm_gflops():.1f} GFLOP/s")
    if "w4" in only:
        r = bench_w4(ARGS.steps, ARGS.repeats)
        print(f"W4 GPT train: dalam {r['dalam']:.0f} tokens/s ({r['ms_step']:.1f} ms/step, {r['gflops']:.1f} GFLOP/s), "
              f"torch {r['torch']:.0f} tokens/s ({r['torch_ms_step']:.1f} ms/step, {r['torch_gflops']:.1f} GFLOP/s), "
              f"ratio {r['dalam'] / r['torch']:.2f}x")
    if "minilm" in only:
        r = bench_minilm(ARGS.repeats)
        print(f"MiniLM embed (batch 32, SST-2 dev sentences): dalam {r['dalam']:.1f} sentences/s, "
              f"torch/transformers {r['torch']:.1f} sentences/s, ratio {r['dalam'] / r['torch']:.2f}x")
    if "generate" in only:
        r = bench_generate(ARGS.repeats)
        print(f"greedy generation to context 256 (W4 dims): with KV cache {r['cache_ms']:.2f} ms/token, "
              f"without {r['full_ms']:.2f} ms/token, speed-up {r['full_ms'] / r['cache_ms']:.1f}x")


if __name__ == "__main__":
    main()
